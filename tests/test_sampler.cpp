#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.h"
#include "decode/generate.h"
#include "decode/sampler.h"

using namespace rooflm;

namespace {
std::vector<float> logits_of(const std::vector<double>& p) {
  std::vector<float> l;
  for (double x : p) l.push_back((float)std::log(x));
  return l;
}
}  // namespace

TEST(Sampler, GreedyIsArgmaxAfterPenalty) {
  SamplerParams sp;
  sp.temperature = 0;
  Sampler s(sp, 4);
  std::vector<float> l{0.1f, 3.0f, 2.9f, -1.0f};
  EXPECT_EQ(s.sample(l.data(), {}), 1);
  sp.repeat_penalty = 1.2f;
  Sampler pen(sp, 4);
  EXPECT_EQ(pen.sample(l.data(), {1}), 2);  // 3.0/1.2 = 2.5 < 2.9
}

TEST(Sampler, ArgmaxIsTheFirstMaximumOfAPlainScan) {
  std::mt19937 rng(7);
  auto scan = [](const std::vector<float>& x) {
    int32_t best = -1;
    for (size_t i = 0; i < x.size(); i++)
      if (!std::isnan(x[i]) && (best < 0 || x[i] > x[(size_t)best])) best = (int32_t)i;
    return best < 0 ? 0 : best;
  };
  // lengths around the 16-lane blocks; few distinct values, so ties are common
  for (int n : {1, 2, 15, 16, 17, 31, 33, 100, 49152}) {
    for (int rep = 0; rep < 20; rep++) {
      std::vector<float> x((size_t)n);
      for (float& v : x) v = (float)(rng() % 7) - 3.0f;
      if (rep % 4 == 1) x[rng() % n] = NAN;
      if (rep % 4 == 2) std::fill(x.begin(), x.end(), -INFINITY);
      if (rep % 4 == 3) x[(size_t)n - 1] = 100.0f;  // maximum in the scalar tail
      ASSERT_EQ(Sampler::argmax(x.data(), n), scan(x)) << "n=" << n << " rep=" << rep;
    }
  }
  std::vector<float> nans(20, NAN);
  EXPECT_EQ(Sampler::argmax(nans.data(), 20), 0);
}

TEST(Sampler, FiltersGiveExactDistributions) {
  std::vector<double> p{0.5, 0.2, 0.15, 0.1, 0.05};
  auto l = logits_of(p);
  std::vector<float> out(5);
  SamplerParams sp;
  sp.temperature = 1;
  sp.top_k = 0; sp.top_p = 1; sp.min_p = 0;
  {
    Sampler s(sp, 5);
    s.probabilities(l.data(), {}, out.data());
    for (int i = 0; i < 5; i++) EXPECT_NEAR(out[i], p[i], 1e-6);
  }
  sp.top_k = 2;
  {
    Sampler s(sp, 5);
    s.probabilities(l.data(), {}, out.data());
    EXPECT_NEAR(out[0], 0.5 / 0.7, 1e-6);
    EXPECT_NEAR(out[1], 0.2 / 0.7, 1e-6);
    EXPECT_EQ(out[2], 0.0f);
  }
  sp.top_k = 0; sp.top_p = 0.8f;  // 0.5 + 0.2 + 0.15 = 0.85 >= 0.8 -> three kept
  {
    Sampler s(sp, 5);
    s.probabilities(l.data(), {}, out.data());
    EXPECT_NEAR(out[2], 0.15 / 0.85, 1e-6);
    EXPECT_EQ(out[3], 0.0f);
  }
  sp.top_p = 1; sp.min_p = 0.25f;  // keep p >= 0.125: drops 0.1 and 0.05
  {
    Sampler s(sp, 5);
    s.probabilities(l.data(), {}, out.data());
    EXPECT_NEAR(out[2], 0.15 / 0.85, 1e-6);
    EXPECT_EQ(out[3], 0.0f);
  }
  sp.min_p = 0; sp.temperature = 0.5f;  // p^(1/T) renormalised
  {
    Sampler s(sp, 5);
    s.probabilities(l.data(), {}, out.data());
    double z = 0;
    for (double x : p) z += x * x;
    for (int i = 0; i < 5; i++) EXPECT_NEAR(out[i], p[i] * p[i] / z, 1e-6);
  }
}

TEST(Sampler, SameSeedSameTokensAndFrequenciesMatch) {
  std::vector<double> p{0.5, 0.3, 0.2};
  auto l = logits_of(p);
  SamplerParams sp;
  sp.temperature = 1; sp.top_k = 0; sp.top_p = 1; sp.min_p = 0; sp.seed = 123;
  Sampler a(sp, 3), b(sp, 3);
  std::vector<int> counts(3, 0);
  const int N = 60000;
  for (int i = 0; i < N; i++) {
    const int32_t x = a.sample(l.data(), {});
    ASSERT_EQ(x, b.sample(l.data(), {}));
    counts[(size_t)x]++;
  }
  // Chi-square with 2 degrees of freedom; 13.8 is the 0.999 quantile.
  double chi = 0;
  for (int i = 0; i < 3; i++) chi += std::pow(counts[(size_t)i] - N * p[(size_t)i], 2) / (N * p[(size_t)i]);
  EXPECT_LT(chi, 13.8);
  sp.seed = 124;
  Sampler c(sp, 3);
  int same = 0;
  Sampler d(SamplerParams{1, 0, 1, 0, 1, 64, 123}, 3);
  for (int i = 0; i < 100; i++) same += c.sample(l.data(), {}) == d.sample(l.data(), {});
  EXPECT_LT(same, 100);
}

TEST(Sampler, RejectsBadParameters) {
  SamplerParams sp;
  sp.top_p = 0;
  EXPECT_THROW(Sampler(sp, 3), Error);
  sp = {};
  sp.temperature = -1;
  EXPECT_THROW(Sampler(sp, 3), Error);
  sp = {};
  sp.top_k = -2;
  EXPECT_THROW(Sampler(sp, 3), Error);
}

TEST(Utf8Stream, HoldsBackIncompleteCharacters) {
  Utf8Stream s;
  const std::string euro = "\xE2\x82\xAC";
  EXPECT_EQ(s.push("a" + euro.substr(0, 1)), "a");
  EXPECT_EQ(s.push(euro.substr(1, 1)), "");
  EXPECT_EQ(s.push(euro.substr(2) + "b"), euro + "b");
  EXPECT_EQ(s.push("\xF0\x9F"), "");
  EXPECT_EQ(s.flush(), "\xF0\x9F");
}
