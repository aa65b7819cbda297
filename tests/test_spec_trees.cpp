// Draft trees, tree shapes, and the n-gram drafters (model-free).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "core/error.h"
#include "decode/speculative/katz.h"
#include "decode/speculative/ngram_drafter.h"
#include "decode/speculative/prompt_lookup.h"
#include "decode/speculative/tree.h"
#include "decode/speculative/tree_builder.h"

using namespace rooflm;
using namespace rooflm::spec;

namespace {

// A synthetic next-token model: after any path, token t has probability w[t] (fixed),
// except that the source can be made deterministic per depth.
struct FixedSource : CandidateSource {
  std::vector<float> w;
  int calls = 0;
  void expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
              std::vector<std::vector<Candidate>>& out) override {
    calls++;
    out.assign(nodes.size(), {});
    for (size_t k = 0; k < nodes.size(); k++)
      for (int t = 0; t < width && t < (int)w.size(); t++) out[k].push_back({t, w[(size_t)t]});
  }
};

void check_tree_valid(const DraftTree& t) {
  for (int i = 1; i < t.size(); i++) {
    ASSERT_GE(t.parent(i), 0);
    ASSERT_LT(t.parent(i), i);
    EXPECT_EQ(t.depth(i), t.depth(t.parent(i)) + 1);
  }
  // Siblings are distinct tokens.
  for (int i = 0; i < t.size(); i++) {
    std::set<int32_t> seen;
    for (int32_t c : t.children(i)) EXPECT_TRUE(seen.insert(t.token(c)).second);
  }
}

}  // namespace

TEST(SpecTree, AddPathsChildren) {
  DraftTree t;
  t.reset(7);
  const int a = t.add(0, 1, 0.5f);
  const int b = t.add(0, 2, 0.3f);
  const int c = t.add(a, 3, 0.2f);
  EXPECT_EQ(t.size(), 4);
  EXPECT_EQ(t.depth(c), 2);
  EXPECT_EQ(t.max_depth(), 2);
  EXPECT_EQ(t.path_to(c), (std::vector<int32_t>{a, c}));
  EXPECT_EQ(t.find_child(0, 2), b);
  EXPECT_EQ(t.find_child(0, 3), -1);
  EXPECT_EQ(t.parents(), (std::vector<int32_t>{-1, 0, 0, a}));
  EXPECT_THROW(t.add(9, 1), Error);
  EXPECT_THROW(t.add(0, 1, 0, 0), Error);  // no distribution 0 yet
  t.reset(5);
  EXPECT_EQ(t.size(), 1);
  EXPECT_TRUE(t.children(0).empty());
}

TEST(SpecTree, SparseShapeIsAncestorClosedAndBounded) {
  for (int depth : {1, 3, 6})
    for (int width : {1, 2, 4})
      for (int size : {1, 5, 16, 40}) {
        auto s = sparse_shape(depth, width, size);
        EXPECT_LE((int)s.size(), size);
        std::set<std::vector<int>> have;
        for (const auto& p : s) {
          EXPECT_LE((int)p.size(), depth);
          for (int r : p) EXPECT_LT(r, width);
          if (p.size() > 1) {
            EXPECT_TRUE(have.count(std::vector<int>(p.begin(), p.end() - 1))) << "parent first";
          }
          have.insert(p);
        }
      }
  // Width 1 is a chain.
  auto c = sparse_shape(5, 1, 100);
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c.back(), std::vector<int>(5, 0));
}

TEST(SpecTree, ChainSparseAndDynamicShapes) {
  FixedSource src;
  src.w = {0.5f, 0.3f, 0.15f, 0.05f};
  DraftTree t;
  t.reset(0);
  build_tree(src, {TreeShape::Chain, 4, 3, 10, 1}, t);
  EXPECT_EQ(t.size(), 5);
  EXPECT_EQ(t.max_depth(), 4);
  check_tree_valid(t);

  t.reset(0);
  build_tree(src, {TreeShape::Sparse, 3, 3, 10, 1}, t);
  EXPECT_EQ(t.size(), 11);
  EXPECT_LE(t.max_depth(), 3);
  check_tree_valid(t);

  // Dynamic: best-first by cumulative probability -> exactly the top-N scoring paths.
  t.reset(0);
  build_tree(src, {TreeShape::Dynamic, 5, 4, 12, 1}, t);
  EXPECT_EQ(t.size(), 13);
  check_tree_valid(t);
  // Every path not in the tree scores <= the worst node in it.
  float worst = 1;
  for (int i = 1; i < t.size(); i++) worst = std::min(worst, t.score(i));
  for (int i = 0; i < t.size(); i++) {
    if (t.depth(i) >= 5) continue;
    for (int r = 0; r < 4; r++)
      if (t.find_child(i, r) < 0) {
        EXPECT_LE(t.score(i) * src.w[(size_t)r], worst + 1e-7f);
      }
  }
  // Most likely child first, scores are cumulative.
  EXPECT_EQ(t.token(t.children(0)[0]), 0);
  EXPECT_NEAR(t.score(t.children(t.children(0)[0])[0]), 0.25f, 1e-6f);

  // Batched expansion: fewer source calls, same budget.
  FixedSource s2 = src;
  s2.calls = 0;
  t.reset(0);
  build_tree(s2, {TreeShape::Dynamic, 5, 4, 12, 4}, t);
  EXPECT_EQ(t.size(), 13);
  EXPECT_LE(s2.calls, 4);
  check_tree_valid(t);

  // Limits: depth 1 -> at most width children.
  t.reset(0);
  build_tree(src, {TreeShape::Dynamic, 1, 3, 12, 1}, t);
  EXPECT_EQ(t.size(), 4);
  EXPECT_EQ(t.max_depth(), 1);
}

TEST(SpecNgram, KatzCountsAndNormalisation) {
  KatzTrigram k(50);
  // A repetitive stream: 1 2 3 1 2 3 ... with a deviation 1 2 4.
  std::vector<int32_t> s;
  for (int i = 0; i < 20; i++) {
    s.insert(s.end(), {1, 2, 3});
    if (i % 5 == 4) s.insert(s.end(), {1, 2, 4});
  }
  for (int32_t t : s) k.push(t);
  std::vector<Candidate> top;
  k.top(1, 2, 3, top);
  ASSERT_GE(top.size(), 2u);
  EXPECT_EQ(top[0].token, 3);
  EXPECT_EQ(top[1].token, 4);
  EXPECT_GT(top[0].prob, 0.6f);
  EXPECT_NEAR(top[0].prob, k.prob(1, 2, 3), 1e-6);
  // The distribution over the vocabulary sums to ~1 (mass for unseen tokens may be lost
  // only when the lower order has nothing left to give).
  for (auto ctx : std::vector<std::pair<int, int>>{{1, 2}, {2, 3}, {3, 1}, {-1, 2}, {7, 8}}) {
    double sum = 0;
    for (int w = 0; w < 50; w++) sum += k.prob(ctx.first, ctx.second, w);
    EXPECT_LE(sum, 1.0 + 1e-6);
    EXPECT_GT(sum, 0.9) << ctx.first << " " << ctx.second;
  }
  // Unseen context backs off to the unigram distribution.
  k.top(40, 41, 2, top);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_TRUE(top[0].token == 1 || top[0].token == 2 || top[0].token == 3);
  EXPECT_THROW(k.push(50), Error);
}

TEST(SpecNgram, PromptLookupFindsTheLongestMatch) {
  PromptLookup pl(1, 8);
  //                          0  1  2  3  4  5  6  7  8  9
  std::vector<int32_t> ctx{5, 6, 7, 8, 9, 1, 6, 7, 2, 6};
  pl.sync(ctx);
  std::vector<Candidate> out;
  // Query ends "... 2 6": matches "6" at 1 and 6 -> successors 7, 7.
  EXPECT_EQ(pl.top({}, 3, out), 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].token, 7);
  // Query "... 6 7" (path {7}): longest match "6 7" at 1..2 and 6..7 -> successors 8 and 2.
  EXPECT_EQ(pl.top({7}, 3, out), 2);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].token, 2);  // tie broken by recency
  // Longer: path {7, 8} -> "6 7 8" matches at 1..3 -> 9.
  EXPECT_EQ(pl.top({7, 8}, 3, out), 3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].token, 9);
  // Extending the context keeps the index.
  ctx.push_back(7);
  pl.sync(ctx);
  EXPECT_EQ(pl.top({}, 3, out), 2);
  // No occurrence.
  EXPECT_EQ(pl.top({42}, 3, out), 0);
  EXPECT_TRUE(out.empty());
}

TEST(SpecNgram, DrafterProposesRepeatsAndRespectsLimits) {
  NgramOptions o;
  o.tree = {TreeShape::Dynamic, 6, 3, 10, 1};
  NgramDrafter d(100, o);
  std::vector<int32_t> ctx;
  for (int r = 0; r < 3; r++)
    for (int t = 10; t < 20; t++) ctx.push_back(t);
  ctx.push_back(10);
  ctx.push_back(11);  // the root
  DraftTree tree;
  tree.reset(11);
  d.propose(ctx, {6, 10}, tree);
  check_tree_valid(tree);
  EXPECT_LE(tree.size(), 11);
  EXPECT_LE(tree.max_depth(), 6);
  // The most likely chain continues the repeat 12 13 14 ...
  int node = 0;
  for (int32_t want = 12; want < 18; want++) {
    ASSERT_FALSE(tree.children(node).empty());
    node = tree.children(node)[0];
    EXPECT_EQ(tree.token(node), want);
  }
  // Tighter limits.
  tree.reset(11);
  d.propose(ctx, {2, 3}, tree);
  EXPECT_LE(tree.size(), 4);
  EXPECT_LE(tree.max_depth(), 2);
  // A context that does not extend the last one rebuilds the models.
  std::vector<int32_t> other{50, 51, 52, 50, 51};
  tree.reset(51);
  d.propose(other, {3, 5}, tree);
  ASSERT_FALSE(tree.children(0).empty());
  EXPECT_EQ(tree.token(tree.children(0)[0]), 52);
}

TEST(SpecNgram, CorpusFeedsTheTrigramModel) {
  NgramOptions o;
  o.lookup = false;
  o.tree = {TreeShape::Chain, 3, 1, 3, 1};
  NgramDrafter d(100, o, {{30, 31, 32, 33}, {30, 31, 32, 33}});
  DraftTree tree;
  tree.reset(31);
  d.propose({1, 2, 30, 31}, {3, 3}, tree);
  ASSERT_EQ(tree.size(), 4);
  EXPECT_EQ(tree.token(1), 32);
  EXPECT_EQ(tree.token(2), 33);
}
