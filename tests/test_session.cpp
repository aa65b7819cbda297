// The forward pass on the real default model: tree batches give the same logits as
// decoding each path one token at a time; commit keeps exactly the accepted K/V.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"
#include "decode/sampler.h"
#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

using namespace rooflm;

namespace {

const Model& smollm2() {
  static std::unique_ptr<Model> m = Model::load(test::default_model_path());
  return *m;
}

double max_rel_diff(const float* a, const float* b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    num = std::max(num, (double)std::fabs(a[i] - b[i]));
    den = std::max(den, (double)std::fabs(b[i]));
  }
  return num / den;
}

}  // namespace

TEST(Session, LoadsSmolLM2Config) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const ModelConfig& c = smollm2().config();
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.n_layer, 30);
  EXPECT_EQ(c.n_embd, 576);
  EXPECT_EQ(c.n_head, 9);
  EXPECT_EQ(c.n_head_kv, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.n_ff, 1536);
  EXPECT_EQ(c.n_vocab, 49152);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.rope, RopeKind::Adjacent);
}

// Every kernel computes a row the same way whatever the batch (matmul's canonical order,
// row-wise ops, attention over the same key order), so a tree node's logits equal decoding its
// path token by token bit for bit, for either KV cache format.
class SessionKV : public ::testing::TestWithParam<DType> {};
INSTANTIATE_TEST_SUITE_P(KVTypes, SessionKV, ::testing::Values(DType::F16, DType::F32),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST_P(SessionKV, TreeBatchEqualsSequentialDecodingOfEachPathBitForBit) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const Model& m = smollm2();
  ThreadPool pool(2);
  const std::vector<int32_t> prompt = m.tokenizer().encode("The capital of France is", true, false);
  const int64_t V = m.config().n_vocab;
  //        0
  //       / \      node ids; parents below (-1 = hangs off the prompt)
  //      1   2
  //     / \   \ .
  //    3   4   5
  const std::vector<int32_t> tokens{1000, 2000, 3000, 4000, 5000, 6000};
  const std::vector<int32_t> parents{-1, 0, 0, 1, 1, 2};
  SessionOptions so;
  so.n_ctx = 128;
  so.kv_type = GetParam();
  Session tree(m, so, pool);
  EXPECT_EQ(tree.kv_type(), GetParam());
  tree.prefill(prompt);
  const float* tl = tree.forward(tokens.data(), parents.data(), (int)tokens.size(), true);
  std::vector<float> tree_logits(tl, tl + tokens.size() * V);

  for (size_t node = 0; node < tokens.size(); node++) {
    std::vector<int32_t> path;
    for (int32_t j = (int32_t)node; j >= 0; j = parents[(size_t)j]) path.insert(path.begin(), tokens[(size_t)j]);
    Session seq(m, so, pool);
    seq.prefill(prompt);
    const float* l = nullptr;
    for (int32_t t : path) l = seq.decode(t);
    EXPECT_EQ(0, std::memcmp(tree_logits.data() + node * V, l, sizeof(float) * V)) << "node " << node;
  }

  // Commit the path 0 -> 2 -> 5, then decode one more token: same as decoding the path.
  tree.commit({0, 2, 5});
  EXPECT_EQ(tree.n_past(), (int64_t)prompt.size() + 3);
  EXPECT_EQ(tree.tokens().back(), 6000);
  const float* after = tree.decode(42);
  Session seq(m, so, pool);
  seq.prefill(prompt);
  for (int32_t t : {1000, 3000, 6000}) seq.decode(t);
  const float* want = seq.decode(42);
  EXPECT_EQ(0, std::memcmp(after, want, sizeof(float) * V));
}

TEST(Session, KVTypesAgreeAndOthersAreRefused) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const Model& m = smollm2();
  ThreadPool pool(2);
  const auto prompt = m.tokenizer().encode("The capital of France is", true, false);
  const int64_t V = m.config().n_vocab;
  SessionOptions so;
  so.n_ctx = 64;
  so.kv_type = DType::F32;
  Session a(m, so, pool);
  a.prefill(prompt);
  const float* la = a.decode(1000);
  const std::vector<float> f32(la, la + V);
  so.kv_type = DType::F16;
  Session b(m, so, pool);
  b.prefill(prompt);
  const float* lb = b.decode(1000);
  // Halves round K/V to 11 bits; after 30 layers the logits move by a few % of the largest
  // (as much as the 8-bit activations move them; the NumPy reference test agrees as well with
  // either format).
  EXPECT_LT(max_rel_diff(lb, f32.data(), V), 5e-2);
  EXPECT_EQ(Sampler::argmax(lb, V), Sampler::argmax(f32.data(), V));
  EXPECT_EQ(b.kv_bytes() * 2, a.kv_bytes());
  so.kv_type = DType::Q8_0;
  try {
    Session c(m, so, pool);
    FAIL() << "expected an error for a Q8_0 KV cache";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("SessionOptions::kv_type: expected f32 or f16"), std::string::npos) << e.what();
  }
}

TEST(Session, PrefillInChunksEqualsOneBatch) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const Model& m = smollm2();
  ThreadPool pool(2);
  const auto prompt = m.tokenizer().encode("One two three four five six seven eight nine ten eleven twelve", true, false);
  SessionOptions big, small;
  big.n_ctx = small.n_ctx = 64;
  small.max_batch = 5;
  Session a(m, big, pool), b(m, small, pool);
  const int64_t V = m.config().n_vocab;
  const float* p = a.prefill(prompt);
  std::vector<float> one(p, p + V);
  const float* q = b.prefill(prompt);
  EXPECT_EQ(0, std::memcmp(q, one.data(), sizeof(float) * V));  // chunking changes nothing, bit for bit
}

TEST(Session, RejectsBadBatchesAndOverflow) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const Model& m = smollm2();
  ThreadPool pool(1);
  SessionOptions so;
  so.n_ctx = 8;
  Session s(m, so, pool);
  const int32_t bad_tok = 1 << 20, root = -1;
  EXPECT_THROW(s.forward(&bad_tok, &root, 1, false), Error);
  const std::vector<int32_t> toks{1, 2}, bad_parents{-1, 5};
  EXPECT_THROW(s.forward(toks.data(), bad_parents.data(), 2, false), Error);
  EXPECT_THROW(s.prefill(std::vector<int32_t>(9, 1)), Error);  // longer than the context
  s.prefill(std::vector<int32_t>(8, 1));
  try {
    s.decode(1);
    FAIL() << "expected context full";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context full"), std::string::npos);
  }
  const std::vector<int32_t> chain{1, 2, 3}, chain_parents{-1, 0, 1};
  Session t(m, so, pool);
  t.forward(chain.data(), chain_parents.data(), 3, false);
  EXPECT_THROW(t.commit({0, 2}), Error);  // 2's parent is 1, not 0
  EXPECT_THROW(t.commit({1}), Error);     // 1 is not a root
}
