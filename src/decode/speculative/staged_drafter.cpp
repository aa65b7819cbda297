#include "decode/speculative/staged_drafter.h"

#include <algorithm>

#include "core/error.h"

namespace rooflm::spec {

namespace {
constexpr int kMaxCatchUpInTree = 8;  // longer catch-ups run as a separate prefill

SessionOptions staged_session_options(const StagedOptions& o, int64_t n_ctx) {
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.max_batch = 512;
  so.max_logits = kMaxCatchUpInTree + o.inner.tree.size + 1;
  return so;
}
SamplerParams greedy_of(SamplerParams p) {
  p.temperature = 0;
  return p;
}
}  // namespace

StagedDrafter::StagedDrafter(const Model& draft, const StagedOptions& opt, std::vector<std::vector<int32_t>> corpus,
                             int64_t n_ctx, ThreadPool& pool)
    : opt_(opt),
      ds_(draft, staged_session_options(opt, n_ctx), pool),
      inner_(draft.config().n_vocab, opt.inner, std::move(corpus)),
      greedy_(greedy_of(opt.sampling), draft.config().n_vocab) {}

std::string StagedDrafter::name() const { return "staged(model+" + inner_.name() + ")"; }

DraftStats StagedDrafter::stats() const {
  DraftStats s;
  s.forwards = ds_.forwards();
  s.inner_steps = inner_steps_;
  s.inner_tokens = inner_tokens_;
  return s;
}

void StagedDrafter::draft_chain(const std::vector<int32_t>& context, int depth) {
  Session& s = ds_.session();
  const int64_t V = ds_.model().config().n_vocab;
  chain_.clear();
  tops_.clear();
  // The draft holds the context before the root; the root is the first inner tree's root.
  ds_.rollback(context, (int64_t)context.size() - 1);
  if ((int64_t)context.size() - 1 - s.n_past() > kMaxCatchUpInTree) {
    std::vector<int32_t> upto(context.begin(), context.end() - 1);
    ds_.catch_up(upto);
  }
  ictx_ = context;
  inner_.sync(context);
  std::vector<Candidate> top;
  std::vector<int32_t> path;
  while ((int)chain_.size() < depth) {
    // Tokens the draft still lacks before the pending token (at most kMaxCatchUpInTree).
    const int64_t have = s.n_past();
    const int n_catch = (int)((int64_t)ictx_.size() - 1 - have);
    // The n-gram proposal under the pending token, never past the chain's end or the context.
    itree_.reset(ictx_.back());
    const int64_t ctx_room = s.n_ctx() - have - n_catch - 1;
    const int inner_depth = (int)std::min<int64_t>(depth - (int)chain_.size() - 1, ctx_room);
    const int inner_size = (int)std::min<int64_t>(opt_.inner.tree.size, ctx_room);
    if (inner_depth > 0 && inner_size > 0) inner_.propose_after(chain_, {inner_depth, inner_size}, itree_);
    bt_.clear();
    bp_.clear();
    for (int i = 0; i < n_catch; i++) {
      bt_.push_back(ictx_[(size_t)(have + i)]);
      bp_.push_back(i - 1);
    }
    for (int i = 0; i < itree_.size(); i++) {
      bt_.push_back(itree_.token(i));
      bp_.push_back(i == 0 ? n_catch - 1 : n_catch + itree_.parent(i));
    }
    const float* logits = ds_.forward(bt_.data(), bp_.data(), (int)bt_.size(), true);
    // Greedy verification by the draft model; every verified position also gives the
    // alternatives for the target tree.
    hist_ = ictx_;
    path.clear();
    int node = 0;
    for (;;) {
      const float* row = logits + (size_t)(n_catch + node) * (size_t)V;
      const int32_t next = greedy_.sample(row, hist_);
      top_softmax(row, V, opt_.tree.width, top);
      std::vector<Candidate> at{{next, softmax_at(row, V, next)}};
      for (const Candidate& c : top)
        if (c.token != next && (int)at.size() < opt_.tree.width) at.push_back(c);
      tops_.push_back(std::move(at));
      chain_.push_back(next);
      const int c = itree_.find_child(node, next);
      if (c < 0 || (int)chain_.size() >= depth) break;
      path.push_back(c);
      hist_.push_back(next);
      node = c;
    }
    // Commit the catch-up, the root and the accepted nodes; the last token is pending.
    commit_.clear();
    for (int i = 0; i < n_catch; i++) commit_.push_back(i);
    commit_.push_back(n_catch);
    for (int32_t c : path) commit_.push_back(n_catch + c);
    s.commit(commit_);
    inner_steps_++;
    inner_tokens_ += (int64_t)path.size() + 1;
    for (int32_t c : path) ictx_.push_back(itree_.token(c));
    ictx_.push_back(chain_.back());
  }
}

void StagedDrafter::propose(const std::vector<int32_t>& context, const DraftLimits& lim, DraftTree& tree) {
  const int64_t room = ds_.session().n_ctx() - (int64_t)context.size();
  const int depth = (int)std::min<int64_t>({(int64_t)opt_.tree.depth, (int64_t)lim.depth, room});
  const int size = std::min(opt_.tree.size, lim.size);
  if (depth < 1 || size < 1) return;
  draft_chain(context, depth);
  TreeOptions t = opt_.tree;
  t.shape = TreeShape::Dynamic;
  t.depth = depth;
  t.size = size;
  t.batch = 1;
  build_tree(*this, t, tree);
}

void StagedDrafter::expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
                           std::vector<std::vector<Candidate>>& out) {
  // Only trunk nodes (root, then chain_ tokens in order) have draft distributions.
  out.resize(nodes.size());
  for (size_t k = 0; k < nodes.size(); k++) {
    out[k].clear();
    const int u = nodes[k];
    const std::vector<int32_t> p = tree.path_to(u);
    if (p.size() >= tops_.size()) continue;
    bool trunk = true;
    for (size_t i = 0; i < p.size() && trunk; i++) trunk = tree.token(p[i]) == chain_[i];
    if (!trunk) continue;
    const auto& t = tops_[p.size()];
    out[k].assign(t.begin(), t.begin() + std::min<size_t>(t.size(), (size_t)width));
  }
}

}  // namespace rooflm::spec
