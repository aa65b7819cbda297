// Speculative decoding on a target Session: each step the drafter proposes a tree under the
// pending token, one target forward runs the whole tree, the verifier accepts a path and
// the target's own next token, and the target commits the root and the accepted path.
//
// The protocol matches generate_autoregressive token for token under greedy decoding (and
// in distribution under sampling): the first token is sampled from the prompt's logits;
// every generated token gets a forward pass (the last one too); generation stops after
// n_predict tokens, before an end-of-generation token, or when the cache is full, exactly
// where plain decoding would.
#pragma once
#include <cstdint>
#include <vector>

#include "decode/generate.h"
#include "decode/speculative/drafter.h"
#include "decode/speculative/verifier.h"

namespace rooflm::spec {

struct SpecStats {
  int64_t target_steps = 0;        // target forwards after prefill
  int64_t tree_nodes = 0;          // nodes those forwards ran (roots included)
  int64_t accepted = 0;            // draft tokens accepted
  std::vector<int64_t> offered;    // [d]: steps whose tree reached depth d+1
  std::vector<int64_t> accepted_at;// [d]: steps that accepted a candidate at depth d+1
  int64_t drafted_nodes = 0;       // candidates proposed (before the budget cut)
  double draft_ms = 0;             // proposing (incl. draft-model forwards)
  double verify_ms = 0;            // target forward + verification + commits
  DraftStats draft;

  // Tokens generated per target forward.
  double tokens_per_step(int64_t n_generated) const { return target_steps ? (double)n_generated / target_steps : 0; }
};

class TreeBudget;
struct SpecLimits {
  int depth = 8;   // deepest candidate
  int size = 32;   // candidates per tree (root excluded)
  TreeBudget* budget = nullptr;  // adaptive: verify only the prefix worth its cost (budget.h)
};

// Generation after the prompt is committed in `target` and `logits` are its last row.
// The target Session needs max_logits >= lim.size + 1.
GenerateResult decode_speculative(Session& target, Sampler& sampler, Drafter& drafter, const SpecLimits& lim,
                                  const float* logits, int64_t n_predict, const TokenCallback& on_token,
                                  SpecStats* stats);
// Prefill + decode_speculative.
GenerateResult generate_speculative(Session& target, Sampler& sampler, Drafter& drafter, const SpecLimits& lim,
                                    const std::vector<int32_t>& prompt, int64_t n_predict,
                                    const TokenCallback& on_token, SpecStats* stats);

}  // namespace rooflm::spec
