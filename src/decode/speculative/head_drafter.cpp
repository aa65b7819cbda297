#include "decode/speculative/head_drafter.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "decode/speculative/draft_session.h"
#include "kernels/ops.h"

namespace rooflm::spec {

namespace {
constexpr int kHeadBatch = 512;  // catch-up chunk (a long prompt arrives at once)

SessionOptions head_session_options(const HeadDrafterOptions& o, int64_t n_ctx) {
  SessionOptions so;
  so.n_ctx = n_ctx + o.tree.size + 2;  // the target's context, then one tree of head rows
  so.max_batch = kHeadBatch;
  so.max_logits = std::max(2, o.tree.size + 1);
  so.keep_features = true;
  so.kv_type = DType::F32;  // the head's cache is small; f32 keeps it closest to training
  return so;
}
}  // namespace

HeadDrafter::HeadDrafter(const Model& head, const HeadDrafterOptions& opt, std::vector<std::vector<int32_t>> corpus,
                         int64_t n_ctx, ThreadPool& pool)
    : head_(head),
      opt_(opt),
      hs_(std::make_unique<Session>(head, head_session_options(opt, n_ctx), pool)),
      lookup_(opt.lookup_min_match, 16),
      d_(head.config().n_embd) {
  if (!head.config().draft_head) fail(head.path(), ": not a draft head");
  if (!corpus.empty()) lookup_.add_documents(corpus);
  if (hs_->n_ctx() < n_ctx + 1)
    fail(head.path(), ": the draft head holds ", hs_->n_ctx(), " positions, fewer than the context of ", n_ctx,
         " tokens; use a smaller context (-c)");
}

std::string HeadDrafter::name() const {
  return "head:" + std::filesystem::path(head_.path()).filename().string() + "/" + tree_shape_name(opt_.tree.shape) + (opt_.lookup ? "+lookup" : "");
}

DraftStats HeadDrafter::stats() const {
  DraftStats s;
  s.forwards = forwards_;
  return s;
}

void HeadDrafter::bind_target(const Session& target) {
  if (target.model().config().n_embd != d_)
    fail("draft head ", head_.path(), ": width ", d_, " differs from the target's ", target.model().config().n_embd);
  target_ = &target;
}

// The `width` most likely draft tokens, as target token ids (a vectorized softmax: this runs
// for every expanded node, over the whole draft vocabulary).
void HeadDrafter::top_draft(const float* logits, int width, std::vector<Candidate>& out) const {
  const int64_t n = hs_->n_logits();
  probs_.assign(logits, logits + n);
  softmax(probs_.data(), n);
  out.clear();
  for (int64_t i = 0; i < n; i++) {
    const float p = probs_[(size_t)i];
    if ((int)out.size() == width && p <= out.back().prob) continue;
    auto pos = std::upper_bound(out.begin(), out.end(), p, [](float v, const Candidate& c) { return v > c.prob; });
    out.insert(pos, {(int32_t)i, p});
    if ((int)out.size() > width) out.pop_back();
  }
  const auto& dv = head_.weights().draft_vocab;
  for (Candidate& c : out) c.token = dv[(size_t)c.token];
}

// Head row t reads (embedding of context[t+1], target feature t); rows up to the last target
// position are committed, the last one's prediction is the root's.
void HeadDrafter::catch_up(const std::vector<int32_t>& context) {
  if (!target_) fail("draft head: no target session bound (bind_target)");
  const int64_t n_target = (int64_t)context.size() - 1;
  if (target_->n_past() != n_target)
    fail("draft head: the target holds ", target_->n_past(), " positions but the context has ", n_target, " before its root");
  const auto& have = hs_->tokens();
  int64_t h = 0;
  const int64_t lim = std::min<int64_t>((int64_t)have.size(), n_target);
  while (h < lim && have[(size_t)h] == context[(size_t)h + 1]) h++;
  h = std::min(h, n_target - 1);  // at least one row, for the root's prediction
  if (h < hs_->n_past()) hs_->truncate(h);
  const float* logits = nullptr;
  std::vector<int32_t> path;
  for (int64_t start = h; start < n_target; start += kHeadBatch) {
    const int n = (int)std::min<int64_t>(kHeadBatch, n_target - start);
    bt_.resize((size_t)n);
    bp_.resize((size_t)n);
    bf_.resize((size_t)(n * d_));
    for (int i = 0; i < n; i++) {
      bt_[(size_t)i] = context[(size_t)(start + i + 1)];
      bp_[(size_t)i] = i - 1;
      std::memcpy(bf_.data() + (size_t)i * d_, target_->committed_feature(start + i), sizeof(float) * d_);
    }
    logits = hs_->forward(bt_.data(), bp_.data(), n, false, bf_.data());
    forwards_++;
    const float* f = hs_->features() + (size_t)(n - 1) * d_;
    root_feature_.assign(f, f + d_);
    path.resize((size_t)n);
    std::iota(path.begin(), path.end(), 0);
    hs_->commit(path);
  }
  root_logits_.assign(logits, logits + hs_->n_logits());
}

void HeadDrafter::propose(const std::vector<int32_t>& context, const DraftLimits& lim, DraftTree& tree) {
  catch_up(context);
  TreeOptions t = opt_.tree;
  t.depth = std::min(t.depth, lim.depth);
  t.size = std::min(t.size, lim.size);
  if (t.depth < 1 || t.size < 1) return;
  node_feature_.resize((size_t)(t.size + 1) * d_);
  node_done_.assign((size_t)t.size + 1, 0);
  // A head forward costs about the same for 1 or 8 rows (its weights dominate): expand several
  // nodes per round, so a tree takes at most kMaxRounds head forwards.
  constexpr int kMaxRounds = 6;
  if (t.shape == TreeShape::Dynamic) t.batch = std::max(4, (t.size + kMaxRounds - 1) / kMaxRounds);
  build_tree(*this, t, tree);
  if (opt_.lookup) add_lookup_branch(context, t.depth, t.size, tree);
}

void HeadDrafter::expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
                         std::vector<std::vector<Candidate>>& out) {
  out.resize(nodes.size());
  // The head's rows for tree nodes are not committed, so each forward carries the ancestors
  // its rows attend to; each row reads its parent's predicted feature.
  partial_tree_batch(tree, nodes, bt_, bp_, batch_of_);
  bf_.clear();
  for (int i = 1; i < tree.size(); i++) {
    if (batch_of_[(size_t)i] < 0) continue;
    const int p = tree.parent(i);
    if (p != 0 && !node_done_[(size_t)p]) fail("draft head: node ", p, " has no prediction yet");
    const float* f = p == 0 ? root_feature_.data() : node_feature_.data() + (size_t)p * d_;
    bf_.insert(bf_.end(), f, f + d_);
  }
  const float* logits = nullptr;
  if (!bt_.empty()) {
    logits = hs_->forward(bt_.data(), bp_.data(), (int)bt_.size(), true, bf_.data());
    forwards_++;
    for (int i = 1; i < tree.size(); i++) {
      const int32_t row = batch_of_[(size_t)i];
      if (row < 0 || (size_t)i >= node_done_.size()) continue;
      std::memcpy(node_feature_.data() + (size_t)i * d_, hs_->features() + (size_t)row * d_, sizeof(float) * d_);
      node_done_[(size_t)i] = 1;
    }
  }
  for (size_t k = 0; k < nodes.size(); k++) {
    const int u = nodes[k];
    const float* row = u == 0 ? root_logits_.data() : logits + (size_t)batch_of_[(size_t)u] * (size_t)hs_->n_logits();
    top_draft(row, width, out[k]);
  }
}

void HeadDrafter::add_lookup_branch(const std::vector<int32_t>& context, int depth, int size, DraftTree& tree) {
  lookup_.sync(context);
  // Local probability of each node (its score over its parent's); the lookup raises it along
  // the branch it proposes.
  std::vector<float> local((size_t)tree.size(), 1.0f);
  for (int i = 1; i < tree.size(); i++) {
    const float ps = tree.score(tree.parent(i));
    local[(size_t)i] = ps > 0 ? std::min(1.0f, tree.score(i) / ps) : 0.0f;
  }
  path_.clear();
  int node = 0;
  bool added = false;
  for (int level = 1; level <= depth; level++) {
    const int m = lookup_.top(path_, 1, cands_);
    if (m < opt_.lookup_min_match || cands_.empty()) break;
    const Candidate c = cands_[0];
    int child = tree.find_child(node, c.token);
    if (child < 0) {
      child = tree.add(node, c.token, tree.score(node) * c.prob);
      local.push_back(c.prob);
      added = true;
    } else if (c.prob > local[(size_t)child]) {
      local[(size_t)child] = c.prob;
      added = true;
    }
    path_.push_back(c.token);
    node = child;
  }
  if (!added) return;
  // Rescore (product of local probabilities down the path) and reorder best-first; a child
  // never outscores its parent, and ties go to the shallower node, so parents stay first.
  const int n = tree.size();
  std::vector<float> score((size_t)n, 1.0f);
  for (int i = 1; i < n; i++) score[(size_t)i] = score[(size_t)tree.parent(i)] * local[(size_t)i];
  std::vector<int> order((size_t)n - 1);
  std::iota(order.begin(), order.end(), 1);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (score[(size_t)a] != score[(size_t)b]) return score[(size_t)a] > score[(size_t)b];
    return tree.depth(a) < tree.depth(b);
  });
  DraftTree sorted;
  sorted.reset(tree.token(0));
  std::vector<int> new_of((size_t)n, -1);
  new_of[0] = 0;
  for (int i : order) {
    if (sorted.size() > size) break;
    const int p = new_of[(size_t)tree.parent(i)];
    if (p < 0) continue;  // its parent was cut
    new_of[(size_t)i] = sorted.add(p, tree.token(i), score[(size_t)i]);
  }
  tree = sorted;
}

}  // namespace rooflm::spec
