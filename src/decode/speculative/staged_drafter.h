// Staged drafting (Spector & Re 2023): the draft model's own decoding is itself
// speculative. To produce its greedy continuation of `depth` tokens it verifies n-gram
// proposal trees (NgramDrafter, `inner` options) in batched forwards of its own, accepting
// several tokens per draft forward; its argmax at every verified position also yields the
// top-`width` alternatives. The target tree is the draft's greedy chain (the trunk) plus
// those alternatives as leaves, chosen best-first by cumulative draft probability (softmax,
// temperature 1) up to `size` nodes. Every candidate is deterministic (one-hot q).
//
// The draft commits its chain as it goes and rolls back to the target's accepted prefix at
// the next proposal.
#pragma once
#include <memory>
#include <vector>

#include "decode/sampler.h"
#include "decode/speculative/draft_session.h"
#include "decode/speculative/drafter.h"
#include "decode/speculative/ngram_drafter.h"

namespace rooflm::spec {

struct StagedOptions {
  TreeOptions tree;        // target tree: trunk depth, alternatives per level, size
  NgramOptions inner;      // the draft model's n-gram drafter (its tree size/depth/width)
  SamplerParams sampling;  // the target's repetition penalty is applied to the draft's argmax
};

class StagedDrafter : public Drafter, private CandidateSource {
 public:
  StagedDrafter(const Model& draft, const StagedOptions& opt, std::vector<std::vector<int32_t>> corpus,
                int64_t n_ctx, ThreadPool& pool);

  std::string name() const override;
  void propose(const std::vector<int32_t>& context, const DraftLimits& lim, DraftTree& tree) override;
  DraftStats stats() const override;

 private:
  void expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
              std::vector<std::vector<Candidate>>& out) override;
  void draft_chain(const std::vector<int32_t>& context, int depth);

  StagedOptions opt_;
  DraftSession ds_;
  NgramDrafter inner_;
  Sampler greedy_;
  DraftTree itree_;
  std::vector<int32_t> chain_;                 // the draft's greedy continuation after the root
  std::vector<std::vector<Candidate>> tops_;   // tops_[d]: candidates after root + chain_[0..d), chain_[d] first
  std::vector<int32_t> ictx_, hist_, bt_, bp_, commit_;
  int64_t inner_steps_ = 0, inner_tokens_ = 0;
};

}  // namespace rooflm::spec
