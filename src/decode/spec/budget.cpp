#include "decode/spec/budget.h"

#include <algorithm>
#include <cmath>

namespace rooflm::spec {

namespace {
constexpr double kAlpha = 0.2;       // EMA weight of a new measurement
constexpr double kPriorSlope = 0.25; // t(n) ~ t(1) (1 + 0.25 (n - 1)) before anything is known
constexpr double kPriorWeight = 2;   // pseudo-observations behind the raw score
constexpr int kExploreEvery = 16;
}  // namespace

TreeBudget::TreeBudget(int max_nodes) : max_nodes_(std::max(1, max_nodes)) {
  t_.assign((size_t)max_nodes_ + 1, 0.0);
}

int TreeBudget::bin_of(float score) {
  if (!(score > 0)) return kBins - 1;
  const int b = (int)std::floor(-std::log2((double)score));
  return std::clamp(b, 0, kBins - 1);
}

double TreeBudget::accept_prob(float score) const {
  const int b = bin_of(score);
  const double prior = std::clamp((double)score, 0.0, 1.0);
  return (accepted_[b] + kPriorWeight * prior) / (offered_[b] + kPriorWeight);
}

double TreeBudget::forward_ms(int n) const {
  n = std::clamp(n, 1, max_nodes_);
  if (t_[(size_t)n] > 0) return t_[(size_t)n];
  int lo = 0, hi = 0;
  for (int i = n - 1; i >= 1; i--)
    if (t_[(size_t)i] > 0) {
      lo = i;
      break;
    }
  for (int i = n + 1; i <= max_nodes_; i++)
    if (t_[(size_t)i] > 0) {
      hi = i;
      break;
    }
  if (lo && hi) return t_[(size_t)lo] + (t_[(size_t)hi] - t_[(size_t)lo]) * (n - lo) / (double)(hi - lo);
  if (hi) {  // only larger counts seen: scale down along the prior slope
    const double t1 = t_[(size_t)hi] / (1 + kPriorSlope * (hi - 1));
    return t1 * (1 + kPriorSlope * (n - 1));
  }
  if (!lo) return 1 + kPriorSlope * (n - 1);  // nothing seen: relative units
  // Beyond the largest count seen: the steeper of the last slope and the prior.
  const double t1 = t_[1] > 0 ? t_[1] : t_[(size_t)lo] / (1 + kPriorSlope * (lo - 1));
  double slope = kPriorSlope * t1;
  int prev = 0;
  for (int i = lo - 1; i >= 1; i--)
    if (t_[(size_t)i] > 0) {
      prev = i;
      break;
    }
  if (prev) slope = std::max(slope, (t_[(size_t)lo] - t_[(size_t)prev]) / (double)(lo - prev));
  return t_[(size_t)lo] + slope * (n - lo);
}

int TreeBudget::choose(const DraftTree& tree) {
  steps_++;
  const int n = std::min(tree.size(), max_nodes_);
  if (n <= 1) return n;
  bool timed = false;
  for (double t : t_) timed = timed || t > 0;
  const double draft = draft_seen_ && timed ? draft_ms_ : 0.0;  // same units as forward_ms()
  double gain = 1, best_rate = 1.0 / (draft + forward_ms(1));
  int best = 1;
  for (int k = 1; k < n; k++) {
    gain += accept_prob(tree.score(k));
    const double rate = gain / (draft + forward_ms(k + 1));
    if (rate > best_rate) {
      best_rate = rate;
      best = k + 1;
    }
  }
  if (steps_ % kExploreEvery == 0) best = std::min(n, std::max(best * 2, best + 2));
  return best;
}

void TreeBudget::observe_forward(int n, double ms) {
  if (n < 1 || n > max_nodes_ || !(ms > 0)) return;
  double& t = t_[(size_t)n];
  t = t > 0 ? (1 - kAlpha) * t + kAlpha * ms : ms;
}

void TreeBudget::observe_draft(double ms) {
  draft_ms_ = draft_seen_ ? (1 - kAlpha) * draft_ms_ + kAlpha * ms : ms;
  draft_seen_ = true;
}

void TreeBudget::observe_acceptance(const DraftTree& tree, const std::vector<int32_t>& accepted) {
  std::vector<char> acc((size_t)tree.size(), 0);
  for (int32_t a : accepted) acc[(size_t)a] = 1;
  for (int i = 1; i < tree.size(); i++) {
    const int b = bin_of(tree.score(i));
    offered_[b] += 1;
    accepted_[b] += acc[(size_t)i];
  }
}

}  // namespace rooflm::spec
