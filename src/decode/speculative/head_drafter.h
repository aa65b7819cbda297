// Drafting with a draft head (docs/DRAFT_HEADS.md): a one-layer network that reads the
// target's own features, so it needs no draft model and no extra target work.
//
// The head keeps a Session of its own whose committed rows mirror the target's committed
// positions: row t reads (embedding of token t+1, target feature t). Before each proposal it
// catches up on the positions the target committed since (one batched head forward); its
// last row predicts the feature under the root and so the first level of candidates. Deeper
// levels read the head's own predicted features: each expansion round is one head forward
// over the nodes to expand and their ancestors (a dynamic tree, best-first by cumulative
// draft probability, EAGLE-2 style). Candidates are deterministic (one-hot q), so greedy and
// sampled verification stay lossless.
//
// With `lookup` (the staged mode) prompt lookup is a second stage: where the context repeats
// itself, its continuation is added as a branch (merged with the head's nodes it shares),
// scored by the lookup's confidence, and the tree is reordered best-first so the budget's
// prefix cut keeps the most likely nodes of both.
#pragma once
#include <memory>
#include <vector>

#include "core/threadpool.h"
#include "decode/speculative/drafter.h"
#include "decode/speculative/prompt_lookup.h"
#include "decode/speculative/tree_builder.h"
#include "model/model.h"
#include "model/session.h"

namespace rooflm::spec {

struct HeadDrafterOptions {
  TreeOptions tree;      // shape (chain or dynamic), depth, width, size
  bool lookup = false;   // staged: prompt-lookup branches as a second stage
  int lookup_min_match = 3;
};

class HeadDrafter : public Drafter, private CandidateSource {
 public:
  // `head` was loaded for `target` (Model::load_draft_head); n_ctx: the target's context.
  // corpus: documents prompt lookup searches too (staged).
  HeadDrafter(const Model& head, const HeadDrafterOptions& opt, std::vector<std::vector<int32_t>> corpus,
              int64_t n_ctx, ThreadPool& pool);

  std::string name() const override;
  bool needs_target_features() const override { return true; }
  void bind_target(const Session& target) override;
  void propose(const std::vector<int32_t>& context, const DraftLimits& lim, DraftTree& tree) override;
  DraftStats stats() const override;

 private:
  void expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
              std::vector<std::vector<Candidate>>& out) override;
  void catch_up(const std::vector<int32_t>& context);
  void add_lookup_branch(const std::vector<int32_t>& context, int depth, int size, DraftTree& tree);
  void top_draft(const float* logits, int width, std::vector<Candidate>& out) const;

  const Model& head_;
  HeadDrafterOptions opt_;
  std::unique_ptr<Session> hs_;
  const Session* target_ = nullptr;
  PromptLookup lookup_;
  int64_t d_;
  int64_t forwards_ = 0;
  std::vector<float> root_logits_, root_feature_;
  std::vector<float> node_feature_;   // [tree node][d]: the head's prediction under the node
  std::vector<char> node_done_;       // whether node_feature_ holds the node's prediction
  std::vector<int32_t> bt_, bp_, batch_of_;
  std::vector<float> bf_;             // per batch row: the parent's feature (the head's input)
  std::vector<int32_t> path_;
  std::vector<Candidate> cands_;
  mutable std::vector<float> probs_;
};

}  // namespace rooflm::spec
