// Token sampling: greedy, temperature, top-k, top-p, min-p, repetition penalty, seeded.
//
// Order (as in Hugging Face generate): repetition penalty on the raw logits, then
// temperature, then top-k, top-p and min-p on the tempered distribution. temperature <= 0 is
// greedy (argmax after the penalty). The random stream is our own xoshiro256** seeded
// by splitmix64, so a seed gives the same tokens on every platform and build.
// probabilities() exposes the exact distribution sampled from, which lossless
// speculative sampling needs for both target and draft.
#pragma once
#include <cstdint>
#include <vector>

#include "rooflm/options.h"

namespace rooflm {

// The public option struct (rooflm/options.h), one definition for the API and the internals.
using SamplerParams = api::SamplerOptions;

class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();  // [0, 1)
 private:
  uint64_t s_[4];
};

class Sampler {
 public:
  Sampler(const SamplerParams& params, int64_t n_vocab);

  const SamplerParams& params() const { return params_; }
  Rng& rng() { return rng_; }

  // Full-vocabulary distribution after penalty/temperature/filters (greedy: one-hot).
  // `history` are the tokens so far (for the repetition penalty). Writes n_vocab floats.
  void probabilities(const float* logits, const std::vector<int32_t>& history, float* probs);
  // Draws from the distribution above (greedy: argmax).
  int32_t sample(const float* logits, const std::vector<int32_t>& history);
  // Draws from an explicit distribution of n_vocab probabilities summing to ~1.
  int32_t draw(const float* probs);

  static int32_t argmax(const float* x, int64_t n);

 private:
  void penalize(const float* logits, const std::vector<int32_t>& history);

  SamplerParams params_;
  int64_t n_vocab_;
  Rng rng_;
  std::vector<float> work_;      // penalized logits
  std::vector<int32_t> cand_;    // candidate ids
  std::vector<float> probs_;     // candidate probabilities (scratch)
  std::vector<float> dist_;      // full-vocabulary distribution for sample()
  std::vector<uint8_t> seen_;
};

}  // namespace rooflm
