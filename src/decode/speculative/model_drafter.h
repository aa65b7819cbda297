// Drafting with a draft model (same tokenizer as the target) in its own Session.
//
//   chain    greedy: the draft's argmax (after the target's repetition penalty) `depth`
//            times; sampling: tokens drawn from the draft's own distribution under the
//            target's sampling settings, each stored as the candidate's q, so the verifier
//            accepts with min(1, p/q) (classic speculative sampling). The draft commits
//            each token as it goes and rolls back to the accepted prefix next time.
//   sparse / dynamic
//            trees from the draft's softmax (temperature 1) top-`width` candidates; the
//            candidates are chosen deterministically (q one-hot in verification). Each
//            expansion round is one draft forward over the needed part of the tree (the
//            nodes to expand and their ancestors); the dynamic shape expands
//            ceil(size / depth) nodes per round. After verification the accepted nodes
//            found in the last draft forward are committed in the draft's cache.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "decode/sampler.h"
#include "decode/speculative/draft_session.h"
#include "decode/speculative/drafter.h"
#include "decode/speculative/tree_builder.h"

namespace rooflm::spec {

struct ModelDrafterOptions {
  TreeOptions tree;
  SamplerParams sampling;  // the target's settings (greedy: temp 0); the seed is re-derived
};

class ModelDrafter : public Drafter, private CandidateSource {
 public:
  // The draft Session holds n_ctx tokens (context + what the drafter adds).
  ModelDrafter(const Model& draft, const ModelDrafterOptions& opt, int64_t n_ctx, ThreadPool& pool);

  std::string name() const override;
  void propose(const std::vector<int32_t>& context, const DraftLimits& lim, DraftTree& tree) override;
  void on_accept(const DraftTree& tree, const std::vector<int32_t>& path) override;
  DraftStats stats() const override;

 private:
  void expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
              std::vector<std::vector<Candidate>>& out) override;
  void propose_chain(int depth, DraftTree& tree);

  ModelDrafterOptions opt_;
  DraftSession ds_;
  Sampler sampler_;            // draws the sampled chain / greedy argmax with the penalty
  std::vector<float> root_logits_;
  std::vector<int32_t> batch_of_;  // tree node -> row of the last draft forward (-1: absent)
  std::vector<int32_t> bt_, bp_, rows_;
  int64_t committed_before_ = 0;   // draft n_past when the last tree forward ran
};

}  // namespace rooflm::spec
