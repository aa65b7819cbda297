#include "decode/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace rooflm {

void api::SamplerOptions::validate() const {
  if (!std::isfinite(temperature) || temperature < 0)
    fail("SamplerOptions::temperature: expected a number >= 0, got ", temperature);
  if (top_k < 0) fail("SamplerOptions::top_k: expected >= 0 (0 = off), got ", top_k);
  if (!(top_p > 0 && top_p <= 1)) fail("SamplerOptions::top_p: expected a number in (0, 1], got ", top_p);
  if (!(min_p >= 0 && min_p < 1)) fail("SamplerOptions::min_p: expected a number in [0, 1), got ", min_p);
  if (!(repeat_penalty > 0) || !std::isfinite(repeat_penalty))
    fail("SamplerOptions::repeat_penalty: expected a number > 0, got ", repeat_penalty);
  if (repeat_last_n < 0) fail("SamplerOptions::repeat_last_n: expected >= 0, got ", repeat_last_n);
}

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }

Sampler::Sampler(const SamplerParams& params, int64_t n_vocab)
    : params_(params), n_vocab_(n_vocab), rng_(params.seed) {
  params_.validate();
  work_.resize((size_t)n_vocab);
  cand_.resize((size_t)n_vocab);
  probs_.resize((size_t)n_vocab);
  dist_.resize((size_t)n_vocab);
  seen_.assign((size_t)n_vocab, 0);
}

int32_t Sampler::argmax(const float* x, int64_t n) {
  // Two passes, the first over 16 independent running maxima so that it vectorizes (a single
  // compare-and-branch chain over a 49k vocabulary took 2% of a decode step). The result is
  // the first index holding the maximum, as a plain scan gives; NaNs are never chosen.
  constexpr int kLanes = 16;
  float m[kLanes];
  for (float& v : m) v = -INFINITY;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; l++) m[l] = x[i + l] > m[l] ? x[i + l] : m[l];
  float best = -INFINITY;
  for (; i < n; i++) best = x[i] > best ? x[i] : best;
  for (float v : m) best = v > best ? v : best;
  for (i = 0; i < n; i++)
    if (x[i] == best) return (int32_t)i;
  return 0;  // every value NaN
}

void Sampler::penalize(const float* logits, const std::vector<int32_t>& history) {
  std::copy(logits, logits + n_vocab_, work_.begin());
  if (!params_.penalizes()) return;
  const size_t start = history.size() > (size_t)params_.repeat_last_n ? history.size() - params_.repeat_last_n : 0;
  for (size_t i = start; i < history.size(); i++) {
    const int32_t t = history[i];
    if (t < 0 || t >= n_vocab_ || seen_[(size_t)t]) continue;
    seen_[(size_t)t] = 1;
    float& l = work_[(size_t)t];
    l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
  }
  for (size_t i = start; i < history.size(); i++)
    if (history[i] >= 0 && history[i] < n_vocab_) seen_[(size_t)history[i]] = 0;
}

void Sampler::probabilities(const float* logits, const std::vector<int32_t>& history, float* probs) {
  penalize(logits, history);
  std::fill(probs, probs + n_vocab_, 0.0f);
  if (params_.greedy()) {
    probs[argmax(work_.data(), n_vocab_)] = 1.0f;
    return;
  }
  // Candidates sorted by logit, descending (only the top-k are sorted when top-k is on).
  std::iota(cand_.begin(), cand_.end(), 0);
  int64_t n = n_vocab_;
  auto by_logit = [&](int32_t a, int32_t b) { return work_[(size_t)a] > work_[(size_t)b] || (work_[(size_t)a] == work_[(size_t)b] && a < b); };
  if (params_.top_k > 0 && params_.top_k < n) {
    std::nth_element(cand_.begin(), cand_.begin() + params_.top_k, cand_.end(), by_logit);
    n = params_.top_k;
    std::sort(cand_.begin(), cand_.begin() + n, by_logit);
  } else if (params_.top_p < 1.0f || params_.min_p > 0.0f) {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }
  const float mx = work_[(size_t)cand_[0]];
  if (params_.top_p >= 1.0f && params_.min_p <= 0.0f && n == n_vocab_) {
    // No filter: plain tempered softmax (candidates unsorted, max found separately).
    float m = work_[0];
    for (int64_t i = 1; i < n; i++) m = std::max(m, work_[(size_t)i]);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (probs[i] = std::exp((work_[(size_t)i] - m) / params_.temperature));
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) probs[i] *= inv;
    return;
  }
  double sum = 0;
  for (int64_t i = 0; i < n; i++) sum += (probs_[(size_t)i] = std::exp((work_[(size_t)cand_[(size_t)i]] - mx) / params_.temperature));
  // top-p: the smallest prefix whose mass reaches top_p.
  int64_t keep = n;
  if (params_.top_p < 1.0f) {
    double acc = 0;
    for (int64_t i = 0; i < n; i++) {
      acc += probs_[(size_t)i] / sum;
      if (acc >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  // min-p: drop tokens below min_p times the most likely one (probs_[0] is the max).
  if (params_.min_p > 0.0f) {
    const float floor = params_.min_p * probs_[0];
    int64_t k = 1;
    while (k < keep && probs_[(size_t)k] >= floor) k++;
    keep = k;
  }
  double kept = 0;
  for (int64_t i = 0; i < keep; i++) kept += probs_[(size_t)i];
  const float inv = (float)(1.0 / kept);
  for (int64_t i = 0; i < keep; i++) probs[cand_[(size_t)i]] = probs_[(size_t)i] * inv;
}

int32_t Sampler::draw(const float* probs) {
  const double u = rng_.uniform();
  double acc = 0;
  int32_t last = -1;
  for (int64_t i = 0; i < n_vocab_; i++) {
    if (probs[i] <= 0) continue;
    acc += probs[i];
    last = (int32_t)i;
    if (u < acc) return (int32_t)i;
  }
  if (last < 0) fail("sampler: empty distribution");
  return last;  // rounding: u fell in the last sliver
}

int32_t Sampler::sample(const float* logits, const std::vector<int32_t>& history) {
  if (params_.greedy()) {
    if (!params_.penalizes()) return argmax(logits, n_vocab_);  // no copy of the logits
    penalize(logits, history);
    return argmax(work_.data(), n_vocab_);
  }
  probabilities(logits, history, dist_.data());
  return draw(dist_.data());
}

}  // namespace rooflm
