// Lossless verification on synthetic distributions: whatever the draft proposes (one child,
// deterministic siblings without replacement, i.i.d. sampled siblings, mixes, two levels),
// the tokens that come out are distributed exactly as the target's distribution, checked
// with a chi-square test (fixed seeds). A negative control shows the test catches the wrong
// residual for deterministic siblings.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <vector>

#include "decode/sampler.h"
#include "decode/speculative/tree.h"
#include "decode/speculative/verifier.h"

using namespace rooflm;
using namespace rooflm::spec;

namespace {

// Upper alpha quantile of chi-square with df degrees of freedom (Wilson-Hilferty).
double chi2_critical(int df, double z) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}
constexpr double kZ = 3.719;  // alpha = 1e-4

// Chi-square statistic of counts against probabilities; cells with p = 0 must be empty.
double chi2(const std::vector<int64_t>& counts, const std::vector<double>& p, int* df) {
  const int64_t n = std::accumulate(counts.begin(), counts.end(), (int64_t)0);
  double s = 0;
  int cells = 0;
  for (size_t i = 0; i < p.size(); i++) {
    if (p[i] <= 0) {
      EXPECT_EQ(counts[i], 0) << "cell " << i << " has probability 0";
      continue;
    }
    const double e = p[i] * (double)n;
    s += (counts[i] - e) * (counts[i] - e) / e;
    cells++;
  }
  *df = cells - 1;
  return s;
}

std::vector<float> log_of(const std::vector<double>& p) {
  std::vector<float> l;
  for (double x : p) l.push_back(x > 0 ? (float)std::log(x) : -1e30f);
  return l;
}

SamplerParams plain(uint64_t seed) {
  SamplerParams sp;
  sp.temperature = 1;
  sp.top_k = 0;
  sp.top_p = 1;
  sp.min_p = 0;
  sp.seed = seed;
  return sp;
}

// Draws from p with a separate stream (the drafter's randomness).
int32_t draw(Rng& rng, const std::vector<double>& p) {
  double u = rng.uniform(), acc = 0;
  for (size_t i = 0; i < p.size(); i++) {
    acc += p[i];
    if (u < acc) return (int32_t)i;
  }
  return (int32_t)p.size() - 1;
}

// Top-k token ids of q.
std::vector<int32_t> top_k(const std::vector<double>& q, int k) {
  std::vector<int32_t> id(q.size());
  std::iota(id.begin(), id.end(), 0);
  std::stable_sort(id.begin(), id.end(), [&](int32_t a, int32_t b) { return q[a] > q[b]; });
  id.resize((size_t)k);
  return id;
}

// One-level experiment: the drafter adds children under the root; the verifier's first
// output token is counted. Returns whether the chi-square test passes.
struct OneLevel {
  OneLevel(std::vector<double> p_, std::function<void(DraftTree&, Rng&)> draft_, SamplerParams sampling_ = plain(7),
           std::vector<double> expected_ = {})
      : p(std::move(p_)), draft(std::move(draft_)), sampling(sampling_), expected(std::move(expected_)) {}
  std::vector<double> p;                        // target after the root
  std::function<void(DraftTree&, Rng&)> draft;  // adds children of node 0
  SamplerParams sampling;
  std::vector<double> expected;                 // defaults to p
};

double run_one_level(const OneLevel& e, int n_trials, int* df, std::vector<int64_t>* counts_out = nullptr) {
  const int64_t V = (int64_t)e.p.size();
  Sampler sampler(e.sampling, V);
  Verifier ver(sampler, V);
  Rng drng(1234);
  const std::vector<float> logits = log_of(e.p);
  std::vector<int64_t> counts((size_t)V, 0);
  DraftTree tree;
  for (int t = 0; t < n_trials; t++) {
    tree.reset(0);
    e.draft(tree, drng);
    // Rows: the root's row is the target; children's rows are irrelevant for the first token.
    std::vector<float> rows((size_t)(tree.size() * V));
    for (int i = 0; i < tree.size(); i++) std::copy(logits.begin(), logits.end(), rows.begin() + (size_t)i * V);
    VerifyResult r = ver.verify(tree, rows.data(), {});
    const int32_t first = r.path.empty() ? r.next : tree.token(r.path[0]);
    counts[(size_t)first]++;
  }
  if (counts_out) *counts_out = counts;
  return chi2(counts, e.expected.empty() ? e.p : e.expected, df);
}

const std::vector<double> kP{0.30, 0.25, 0.20, 0.10, 0.08, 0.05, 0.02};
const std::vector<double> kQ{0.05, 0.40, 0.10, 0.30, 0.05, 0.05, 0.05};  // disagrees with kP
constexpr int kTrials = 200000;

}  // namespace

TEST(SpecVerifier, DeterministicSingleChild) {
  for (int32_t x : {0, 3, 6}) {
    OneLevel e{kP, [x](DraftTree& t, Rng&) { t.add(0, x); }};
    int df;
    const double s = run_one_level(e, kTrials, &df);
    EXPECT_LT(s, chi2_critical(df, kZ)) << "child " << x;
  }
}

TEST(SpecVerifier, DeterministicSiblingsWithoutReplacement) {
  // Top-3 of a draft distribution that disagrees with the target, proposed in order.
  const auto top = top_k(kQ, 3);
  OneLevel e{kP, [&](DraftTree& t, Rng&) {
               for (int32_t x : top) t.add(0, x);
             }};
  int df;
  const double s = run_one_level(e, kTrials, &df);
  EXPECT_LT(s, chi2_critical(df, kZ));
  // Every token as a sibling (the residual runs out exactly).
  OneLevel all{kP, [](DraftTree& t, Rng&) {
                 for (int32_t x : {6, 5, 4, 3, 2, 1, 0}) t.add(0, x);
               }};
  const double s_all = run_one_level(all, kTrials, &df);
  EXPECT_LT(s_all, chi2_critical(df, kZ));
}

TEST(SpecVerifier, NegativeControlDenseQForDeterministicSiblingsIsBiased) {
  // The tokens are the draft's top-3 (deterministic) but are marked as sampled from q:
  // the rule min(1, p/q) with residual p - q is then wrong, and the test must see it.
  const auto top = top_k(kQ, 3);
  OneLevel e{kP, [&](DraftTree& t, Rng&) {
               const int q = t.new_dist((int64_t)kQ.size());
               for (size_t i = 0; i < kQ.size(); i++) t.dist(q)[i] = (float)kQ[i];
               for (int32_t x : top) t.add(0, x, 0, q);
             }};
  int df;
  const double s = run_one_level(e, 20000, &df);
  EXPECT_GT(s, chi2_critical(df, kZ)) << "the chi-square test failed to detect a biased rule";
}

TEST(SpecVerifier, SampledSiblingsIID) {
  for (int k : {1, 2, 4}) {
    OneLevel e{kP, [k](DraftTree& t, Rng& rng) {
                 const int q = t.new_dist((int64_t)kQ.size());
                 for (size_t i = 0; i < kQ.size(); i++) t.dist(q)[i] = (float)kQ[i];
                 for (int j = 0; j < k; j++) t.add(0, draw(rng, kQ), 0, q);
               }};
    int df;
    const double s = run_one_level(e, kTrials, &df);
    EXPECT_LT(s, chi2_critical(df, kZ)) << k << " sampled siblings";
  }
}

TEST(SpecVerifier, SampledThenDeterministicSiblings) {
  // A sampled child (q) followed by deterministic ones (one-hot q), and the reverse order.
  OneLevel a{kP, [](DraftTree& t, Rng& rng) {
               const int q = t.new_dist((int64_t)kQ.size());
               for (size_t i = 0; i < kQ.size(); i++) t.dist(q)[i] = (float)kQ[i];
               t.add(0, draw(rng, kQ), 0, q);
               t.add(0, 0);
               t.add(0, 2);
             }};
  OneLevel b{kP, [](DraftTree& t, Rng& rng) {
               t.add(0, 1);
               const int q = t.new_dist((int64_t)kQ.size());
               for (size_t i = 0; i < kQ.size(); i++) t.dist(q)[i] = (float)kQ[i];
               t.add(0, draw(rng, kQ), 0, q);
               t.add(0, draw(rng, kQ), 0, q);
             }};
  int df;
  const double sa = run_one_level(a, kTrials, &df);
  EXPECT_LT(sa, chi2_critical(df, kZ));
  const double sb = run_one_level(b, kTrials, &df);
  EXPECT_LT(sb, chi2_critical(df, kZ));
}

TEST(SpecVerifier, FiltersAreTheTargetDistribution) {
  // With temperature/top-k/top-p the output follows Sampler::probabilities, not the raw p.
  SamplerParams sp = plain(11);
  sp.temperature = 0.7f;
  sp.top_k = 4;
  sp.top_p = 0.9f;
  Sampler ref(sp, (int64_t)kP.size());
  const auto logits = log_of(kP);
  std::vector<float> pf(kP.size());
  ref.probabilities(logits.data(), {}, pf.data());
  std::vector<double> want(pf.begin(), pf.end());
  const auto top = top_k(kQ, 3);
  OneLevel e{kP, [&](DraftTree& t, Rng&) {
               for (int32_t x : top) t.add(0, x);
             },
             sp, want};
  int df;
  std::vector<int64_t> counts;
  const double st = run_one_level(e, kTrials, &df, &counts);
  EXPECT_LT(st, chi2_critical(df, kZ));
  EXPECT_EQ(counts[6], 0);  // filtered out
}

TEST(SpecVerifier, TwoLevelTreeJointDistribution) {
  // Target: p1 after the root, p2(.|x) after each first token x. Tree: deterministic
  // children {1, 3} of the root; under 1, two children sampled from q2; under 3, one
  // deterministic child. The joint of the first two output tokens must be p1(x) p2(y|x).
  const int V = 4;
  const std::vector<double> p1{0.4, 0.3, 0.2, 0.1};
  auto p2 = [](int x) {
    std::vector<double> p{0.1, 0.2, 0.3, 0.4};
    std::rotate(p.begin(), p.begin() + x, p.end());
    return p;
  };
  const std::vector<double> q2{0.7, 0.1, 0.1, 0.1};
  SamplerParams sp = plain(99);
  Sampler sampler(sp, V);
  Verifier ver(sampler, V);
  Rng drng(5), next_rng(6);
  std::vector<int64_t> counts(V * V, 0);
  DraftTree tree;
  for (int t = 0; t < kTrials; t++) {
    tree.reset(0);
    const int a = tree.add(0, 1);
    const int b = tree.add(0, 3);
    const int q = tree.new_dist(V);
    for (int i = 0; i < V; i++) tree.dist(q)[i] = (float)q2[i];
    tree.add(a, draw(drng, q2), 0, q);
    tree.add(a, draw(drng, q2), 0, q);
    tree.add(b, 2);
    std::vector<float> rows;
    for (int i = 0; i < tree.size(); i++) {
      const auto l = log_of(i == 0 ? p1 : p2(tree.token(i)));
      rows.insert(rows.end(), l.begin(), l.end());
    }
    // Rows of depth-2 nodes are never read for the first two tokens but must exist.
    VerifyResult r = ver.verify(tree, rows.data(), {});
    int x, y;
    if (r.path.empty()) {
      x = r.next;
      y = draw(next_rng, p2(x));  // the next step samples from the target directly
    } else if (r.path.size() == 1) {
      x = tree.token(r.path[0]);
      y = r.next;
    } else {
      x = tree.token(r.path[0]);
      y = tree.token(r.path[1]);
    }
    counts[(size_t)(x * V + y)]++;
  }
  std::vector<double> joint(V * V);
  for (int x = 0; x < V; x++)
    for (int y = 0; y < V; y++) joint[(size_t)(x * V + y)] = p1[(size_t)x] * p2(x)[(size_t)y];
  int df;
  const double sj = chi2(counts, joint, &df);
  EXPECT_EQ(df, V * V - 1);
  EXPECT_LT(sj, chi2_critical(df, kZ));
}

TEST(SpecVerifier, GreedyFollowsArgmaxWithPenalty) {
  SamplerParams sp;
  sp.temperature = 0;
  sp.repeat_penalty = 2.0f;
  const int V = 4;
  Sampler sampler(sp, V);
  Verifier ver(sampler, V);
  DraftTree tree;
  tree.reset(2);
  const int a = tree.add(0, 1);   // argmax after root: logits favour 1
  tree.add(0, 3);
  const int c = tree.add(a, 0);   // after 1: token 1 is penalized (in history), so 0 wins
  (void)c;
  std::vector<float> rows{
      0.0f, 3.0f, 1.0f, 0.5f,   // root
      2.0f, 3.0f, 0.0f, 0.0f,   // after 1 (1 is penalized: 3/2 = 1.5 < 2)
      0.0f, 0.0f, 0.0f, 9.0f,   // after 3 (never reached)
      0.0f, 0.0f, 9.0f, 0.0f,   // after 1,0: 2 is penalized (root): 4.5 still the max
  };
  VerifyResult r = ver.verify(tree, rows.data(), {});
  ASSERT_EQ(r.path.size(), 2u);
  EXPECT_EQ(tree.token(r.path[0]), 1);
  EXPECT_EQ(tree.token(r.path[1]), 0);
  EXPECT_EQ(r.next, 2);
}
