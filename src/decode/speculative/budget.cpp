#include "decode/speculative/budget.h"

#include <algorithm>
#include <cmath>

namespace rooflm::spec {

namespace {
constexpr double kAlpha = 0.2;       // EMA weight of a new drafting-time measurement
constexpr size_t kKeep = 9;          // forward times kept per node count (median)
constexpr double kPriorSlope = 0.25; // t(n) ~ t(1) (1 + 0.25 (n - 1)) before anything is known
constexpr double kPriorWeight = 4;   // pseudo-observations behind the prior
constexpr int kExploreEvery = 32;
constexpr double kMargin = 1.05;
constexpr double kPauseShare = 0.02;  // drafting cheaper than 2% of a forward never pauses
}  // namespace

TreeBudget::TreeBudget(int max_nodes, bool allow_pause) : max_nodes_(std::max(1, max_nodes)), allow_pause_(allow_pause) {
  t_.assign((size_t)max_nodes_ + 1, 0.0);
  recent_.assign((size_t)max_nodes_ + 1, {});
  next_.assign((size_t)max_nodes_ + 1, 0);
}

int TreeBudget::bin_of(float p) {
  if (!(p > 0)) return kBins - 1;
  const int b = (int)std::floor(-std::log2((double)p));
  return std::clamp(b, 0, kBins - 1);
}

double TreeBudget::local_accept(float local_prob) const {
  const int b = bin_of(local_prob);
  const double prior = std::clamp(0.5 * (double)local_prob, 0.0, 1.0);
  return (accepted_[b] + kPriorWeight * prior) / (offered_[b] + kPriorWeight);
}

double TreeBudget::depth_accept(int depth) const {
  const int d = std::clamp(depth, 1, kDepths) - 1;
  return (d_accepted_[d] + kPriorWeight * 0.5) / (d_offered_[d] + kPriorWeight);
}

namespace {
float local_prob(const DraftTree& t, int i) {
  const float ps = t.score(t.parent(i));
  return ps > 0 ? std::min(1.0f, t.score(i) / ps) : 0.0f;
}
}  // namespace

void TreeBudget::estimate(const DraftTree& tree, int n) {
  bool sampled = false;
  for (int i = 1; i < n; i++) sampled = sampled || tree.q_index(i) >= 0;
  p_.assign((size_t)n, 1.0);
  for (int i = 1; i < n; i++)
    p_[(size_t)i] = p_[(size_t)tree.parent(i)] * (sampled ? depth_accept(tree.depth(i)) : local_accept(local_prob(tree, i)));
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
  // Beyond the largest count seen: the last measured slope, or the (optimistic) prior slope,
  // so that larger trees get tried and measured.
  const double t1 = t_[1] > 0 ? t_[1] : t_[(size_t)lo] / (1 + kPriorSlope * (lo - 1));
  double slope = kPriorSlope * t1;
  for (int i = lo - 1; i >= 1; i--)
    if (t_[(size_t)i] > 0) {
      slope = std::max(0.0, (t_[(size_t)lo] - t_[(size_t)i]) / (double)(lo - i));
      break;
    }
  return t_[(size_t)lo] + slope * (n - lo);
}

bool TreeBudget::should_draft() {
  if (skip_ > 0) {
    skip_--;
    return false;
  }
  return true;
}

int TreeBudget::choose(const DraftTree& tree) {
  steps_++;
  const int n = std::min(tree.size(), max_nodes_);
  bool timed = false;
  for (double t : t_) timed = timed || t > 0;
  const double draft = draft_seen_ && timed ? draft_ms_ : 0.0;  // same units as forward_ms()
  estimate(tree, n);
  // Probes and exploration spend a step on a tree the estimates would not pick: only when
  // the tree looks promising (its first candidate is estimated likelier than not).
  const bool promising = n >= 2 && p_[1] >= 0.5;
  if (probe_ > 0 && timed && promising) {
    if (probe_ > max_nodes_) probe_ = 0;
    else return std::min(n, probe_);
  }
  const double rate_root = 1.0 / (draft + forward_ms(1));
  double gain = 1, best_rate = rate_root;
  int best = 1;
  for (int k = 1; k < n; k++) {
    gain += p_[(size_t)k];
    const double rate = gain / (draft + forward_ms(k + 1));
    if (rate > best_rate) {
      best_rate = rate;
      best = k + 1;
    }
  }
  // Verify candidates only when they promise a clear gain (5%) over the root alone: the
  // estimates are noisy and a marginal tree on a busy machine is a loss more often than not.
  if (best > 1 && best_rate < kMargin * rate_root) best = 1;
  // Is drafting worth it at all? Compare with plain decoding (no drafting time).
  // Only worth pausing when drafting costs something (a draft model; n-gram drafting is
  // ~100x cheaper than a forward).
  if (allow_pause_ && timed && probe_ == 0 && draft > kPauseShare * forward_ms(1) && best_rate < 1.0 / forward_ms(1)) {
    if (++losing_ >= 2) {
      skip_ = std::min(32, 2 << backoff_);
      backoff_ = std::min(backoff_ + 1, 4);
      losing_ = 0;
    }
  } else {
    losing_ = 0;
    backoff_ = 0;
  }
  if (promising && steps_ % kExploreEvery == 0) best = std::min(n, std::max(best * 2, best + 2));
  return best;
}

void TreeBudget::observe_forward(int n, double ms) {
  if (n < 1 || n > max_nodes_ || !(ms > 0)) return;
  auto& r = recent_[(size_t)n];
  if (r.size() < kKeep) r.push_back(ms);
  else r[(size_t)next_[(size_t)n]] = ms;
  next_[(size_t)n] = (int)((next_[(size_t)n] + 1) % kKeep);
  std::vector<double> tmp = r;
  std::nth_element(tmp.begin(), tmp.begin() + (ptrdiff_t)(tmp.size() / 2), tmp.end());
  double& t = t_[(size_t)n];
  t = tmp[tmp.size() / 2];
  if (probe_ > 0 && n >= 2) {
    // Next probe: roughly double, while trees stay cheap (< 1.5 t(1)).
    const bool cheap = t_[1] > 0 && t < 1.5 * t_[1];
    probe_ = cheap && n < max_nodes_ ? std::min(max_nodes_, 2 * n - 1) : 0;
  }
}

void TreeBudget::observe_draft(double ms) {
  draft_ms_ = draft_seen_ ? (1 - kAlpha) * draft_ms_ + kAlpha * ms : ms;
  draft_seen_ = true;
}

void TreeBudget::observe_acceptance(const DraftTree& tree, const std::vector<int32_t>& accepted) {
  std::vector<char> acc((size_t)tree.size(), 0);
  acc[0] = 1;
  for (int32_t a : accepted) acc[(size_t)a] = 1;
  for (int i = 1; i < tree.size(); i++) {
    if (!acc[(size_t)tree.parent(i)]) continue;  // only candidates whose parent was accepted
    const int b = bin_of(local_prob(tree, i));
    offered_[b] += 1;
    accepted_[b] += acc[(size_t)i];
    const int d = std::min(tree.depth(i), kDepths) - 1;
    d_offered_[d] += 1;
    d_accepted_[d] += acc[(size_t)i];
  }
}

}  // namespace rooflm::spec
