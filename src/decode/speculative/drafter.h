// The drafter interface: propose a token tree for a context, hear back what was accepted.
//
// Implementations (one file each):
//   ngram_drafter.h  Katz back-off trigram and/or prompt lookup (no model)
//   model_drafter.h  a draft model with its own Session, kept in sync with the target
//   staged_drafter.h a draft model whose own decoding is sped up by an n-gram drafter
//   head_drafter.h   a draft head over the target's own features (+ prompt lookup)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "decode/speculative/tree.h"

namespace rooflm {
class Session;
}

namespace rooflm::spec {

struct DraftLimits {
  int depth = 0;  // deepest candidate level allowed (tokens still to generate, context room)
  int size = 0;   // candidate nodes allowed, root excluded
};

struct DraftStats {
  int64_t forwards = 0;       // draft-model forward passes
  int64_t inner_steps = 0;    // staged: draft-model verification steps
  int64_t inner_tokens = 0;   // staged: tokens the draft model produced in them
};

class Drafter {
 public:
  virtual ~Drafter() = default;
  virtual std::string name() const = 0;
  // Drafters that read the target's features (draft heads) need a target Session made with
  // SessionOptions::keep_features; decode_speculative binds it before the first proposal.
  virtual bool needs_target_features() const { return false; }
  virtual void bind_target(const Session& target) {}
  // context: every token so far, ending with the root (the pending token the target has
  // sampled but not yet run). `tree` holds only that root; the drafter adds candidates,
  // most likely child first, within `lim`.
  virtual void propose(const std::vector<int32_t>& context, const DraftLimits& lim, DraftTree& tree) = 0;
  // After verification: the accepted candidate nodes of the last proposal (root excluded).
  virtual void on_accept(const DraftTree& tree, const std::vector<int32_t>& path) {}
  virtual DraftStats stats() const { return {}; }
};

}  // namespace rooflm::spec
