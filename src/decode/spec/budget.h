// Adaptive tree budget: how many of the drafted candidates are worth verifying.
//
// Verifying n nodes costs t(n) (one target forward); it gains 1 + (expected accepted
// candidates) tokens. Drafters add candidates parents-first and (dynamic trees) most likely
// first, so every prefix of the node list is a valid tree. The budget keeps the prefix that
// maximises expected tokens per millisecond:
//   gain(k) = 1 + sum_{i <= k} a(score_i)        time(k) = draft_ms + t(k + 1)
// where a() maps a candidate's cumulative draft probability to the observed probability
// that such a candidate is accepted (per log2-score bin, Beta(1+s,1+(1-s)) prior around the
// raw score), and t() is the measured forward time per node count (exponential moving
// average; unseen counts interpolate between seen ones, beyond the largest seen count they
// extrapolate with the steeper of the last measured slope and a prior of 0.25 t(1) per node).
// Every 16th step the budget may double to keep learning the cost of larger trees.
// Nothing here looks at the target's output for the current step, so truncating keeps
// verification lossless.
#pragma once
#include <cstdint>
#include <vector>

#include "decode/spec/tree.h"

namespace rooflm::spec {

class TreeBudget {
 public:
  explicit TreeBudget(int max_nodes);

  // Nodes of `tree` (root included, >= 1) worth running now.
  int choose(const DraftTree& tree);
  void observe_forward(int n_nodes, double ms);
  void observe_draft(double ms);
  // After verification: which candidates of the (truncated) tree were accepted.
  void observe_acceptance(const DraftTree& tree, const std::vector<int32_t>& accepted);

  double forward_ms(int n_nodes) const;         // current estimate of t(n)
  double accept_prob(float score) const;        // current estimate of a(score)

 private:
  static int bin_of(float score);
  int max_nodes_;
  std::vector<double> t_;      // [n] EMA of forward ms, 0 = unseen
  double draft_ms_ = 0;
  bool draft_seen_ = false;
  static constexpr int kBins = 24;
  double offered_[kBins] = {}, accepted_[kBins] = {};
  int64_t steps_ = 0;
};

}  // namespace rooflm::spec
