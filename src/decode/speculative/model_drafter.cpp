#include "decode/speculative/model_drafter.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace rooflm::spec {

namespace {
SessionOptions draft_session_options(const ModelDrafterOptions& o, int64_t n_ctx) {
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.max_batch = 512;
  so.max_logits = std::max(2, o.tree.size + 1);
  return so;
}
SamplerParams draft_sampling(SamplerParams p) {
  p.seed = p.seed * 0x9E3779B97F4A7C15ull + 0x5EED;  // independent of the verifier's stream
  return p;
}
}  // namespace

ModelDrafter::ModelDrafter(const Model& draft, const ModelDrafterOptions& opt, int64_t n_ctx, ThreadPool& pool)
    : opt_(opt),
      ds_(draft, draft_session_options(opt, n_ctx), pool),
      sampler_(draft_sampling(opt.sampling), draft.config().n_vocab) {}

std::string ModelDrafter::name() const { return std::string("model/") + tree_shape_name(opt_.tree.shape); }

DraftStats ModelDrafter::stats() const {
  DraftStats s;
  s.forwards = ds_.forwards();
  return s;
}

void ModelDrafter::propose(const std::vector<int32_t>& context, const DraftLimits& lim, DraftTree& tree) {
  batch_of_.clear();
  Session& s = ds_.session();
  // The draft holds the context up to the root and the root's logits afterwards.
  ds_.rollback(context, (int64_t)context.size() - 1);
  const int64_t room = s.n_ctx() - (int64_t)context.size();  // rows left after the root
  const float* logits = ds_.catch_up(context);
  const int64_t V = ds_.model().config().n_vocab;
  root_logits_.assign(logits, logits + V);

  TreeOptions t = opt_.tree;
  t.depth = (int)std::min<int64_t>({(int64_t)t.depth, (int64_t)lim.depth, room});
  t.size = (int)std::min<int64_t>({(int64_t)t.size, (int64_t)lim.size, room});
  if (t.depth < 1 || t.size < 1) return;
  if (t.shape == TreeShape::Chain) {
    propose_chain(std::min(t.depth, t.size), tree);
    return;
  }
  t.batch = std::max(1, (t.size + t.depth - 1) / t.depth);
  committed_before_ = s.n_past();
  build_tree(*this, t, tree);
}

void ModelDrafter::propose_chain(int depth, DraftTree& tree) {
  Session& s = ds_.session();
  const int64_t V = ds_.model().config().n_vocab;
  const float* logits = root_logits_.data();
  int node = 0;
  float score = 1.0f;
  for (int d = 1; d <= depth; d++) {
    int32_t x;
    int q = -1;
    if (sampler_.params().greedy()) {
      x = sampler_.sample(logits, s.tokens());
      score *= softmax_at(logits, V, x);
    } else {
      q = tree.new_dist(V);
      sampler_.probabilities(logits, s.tokens(), tree.dist(q));
      x = sampler_.draw(tree.dist(q));
      score *= tree.dist(q)[x];
    }
    node = tree.add(node, x, score, q);
    if (d == depth) break;
    logits = ds_.decode(x);
  }
}

void ModelDrafter::expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
                          std::vector<std::vector<Candidate>>& out) {
  const int64_t V = ds_.model().config().n_vocab;
  out.resize(nodes.size());
  partial_tree_batch(tree, nodes, bt_, bp_, batch_of_);
  const float* logits = bt_.empty() ? nullptr : ds_.forward(bt_.data(), bp_.data(), (int)bt_.size(), true);
  for (size_t k = 0; k < nodes.size(); k++) {
    const int u = nodes[k];
    const float* row = u == 0 ? root_logits_.data() : logits + (size_t)batch_of_[(size_t)u] * (size_t)V;
    top_softmax(row, V, width, out[k]);
  }
}

void ModelDrafter::on_accept(const DraftTree& tree, const std::vector<int32_t>& path) {
  // Commit the accepted nodes that the last draft forward computed (their K/V are in the
  // draft's scratch rows); the rest is caught up at the next proposal.
  if (batch_of_.empty() || ds_.session().n_past() != committed_before_) return;
  std::vector<int32_t> rows;
  for (int32_t u : path) {
    if (u >= (int)batch_of_.size() || batch_of_[(size_t)u] < 0) break;
    rows.push_back(batch_of_[(size_t)u]);
  }
  if (!rows.empty()) ds_.session().commit(rows);
  batch_of_.clear();
}

}  // namespace rooflm::spec
