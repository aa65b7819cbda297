// Adaptive tree budget: how many of the drafted candidates are worth verifying.
//
// Verifying n nodes costs t(n) (one target forward); it gains 1 + (expected accepted
// candidates) tokens. Drafters add candidates parents-first and (dynamic trees) most likely
// first, so every prefix of the node list is a valid tree. The budget keeps the prefix that
// maximises expected tokens per millisecond (candidates are kept only when that beats the
// root alone by 5%):
//   gain(k) = 1 + sum_{i <= k} P(i)        time(k) = draft_ms + t(k + 1)
// P(i) = P(parent) * a(i), where a(i) is the observed probability that a candidate is
// accepted given that its parent was, per bin of its local draft probability
// score(i) / score(parent) (prior: half that probability, weight 4 observations). Trees holding
// sampled candidates (q_index >= 0) are judged by depth alone (a per-depth acceptance rate):
// a cut that looked at the sampled tokens' probabilities would change the distribution the
// kept tokens were drawn from and break lossless verification.
// t() is the measured forward time per node count (median of its last 9 measurements, robust
// to the spikes of a shared machine; unseen
// counts interpolate between seen ones, beyond the largest seen count they extrapolate with
// the last measured slope, or a prior of 0.25 t(1) per node).
// The first promising steps (first candidate estimated at >= 50%) probe the cost curve: trees
// of 2, 3, 5, 9, 17, ... nodes (as far as the drafted tree reaches), continuing while a tree
// costs less than 1.5 single tokens. Every 32nd step, if promising, the budget doubles to
// keep learning the cost of larger trees.
// When drafting costs more than 2% of a forward and even the best prefix (drafting time
// included) is slower than plain decoding twice in a row, drafting itself pauses for 2, 4, ... up to 32 steps before it is tried again.
// Nothing here looks at the target's output for the current step, so truncating keeps
// verification lossless.
#pragma once
#include <cstdint>
#include <vector>

#include "decode/speculative/tree.h"

namespace rooflm::spec {

class TreeBudget {
 public:
  // allow_pause: whether drafting may pause when it does not pay (tests turn it off).
  explicit TreeBudget(int max_nodes, bool allow_pause = true);

  // Whether to draft at this step (false while drafting is paused).
  bool should_draft();
  // Nodes of `tree` (root included, >= 1) worth running now.
  int choose(const DraftTree& tree);
  void observe_forward(int n_nodes, double ms);
  void observe_draft(double ms);
  // After verification: which candidates of the (truncated) tree were accepted.
  void observe_acceptance(const DraftTree& tree, const std::vector<int32_t>& accepted);

  double forward_ms(int n_nodes) const;         // current estimate of t(n)
  double local_accept(float local_prob) const;  // current estimate of a() by local probability
  double depth_accept(int depth) const;         // current estimate of a() by depth

 private:
  static int bin_of(float p);
  // Estimated P(node accepted) for every node of the first n (P[0] = 1).
  void estimate(const DraftTree& tree, int n);
  int max_nodes_;
  bool allow_pause_;
  std::vector<double> t_;      // [n] median of recent forward ms, 0 = unseen
  std::vector<std::vector<double>> recent_;  // [n] last kKeep measurements (ring)
  std::vector<int> next_;
  double draft_ms_ = 0;
  bool draft_seen_ = false;
  static constexpr int kBins = 24;    // local probability bins: [2^-(b+1), 2^-b)
  static constexpr int kDepths = 32;
  double offered_[kBins] = {}, accepted_[kBins] = {};
  double d_offered_[kDepths] = {}, d_accepted_[kDepths] = {};
  std::vector<double> p_;
  int64_t steps_ = 0;
  int losing_ = 0, backoff_ = 0, skip_ = 0;
  int probe_ = 2;  // next tree size to measure; 0 when probing is over
};

}  // namespace rooflm::spec
