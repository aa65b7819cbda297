// The public API (include/rooflm/rooflm.h) as an embedder sees it: this binary links rooflm::rooflm
// and includes nothing from src/. Runs on the tiny fixture model (tests/fixtures/tiny_llama).
#include <gtest/gtest.h>
#include <rooflm/rooflm.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace api = rooflm::api;

namespace {

std::string fixture(const std::string& name) {
  const char* dir = std::getenv("ROOFLM_SOURCE_DIR");
  return std::string(dir ? dir : ROOFLM_SOURCE_DIR) + "/tests/fixtures/" + name;
}

const api::Model& tiny() {
  static const api::Model m = api::Model::load(fixture("tiny_llama/tiny_llama.gguf"), {.n_threads = 1});
  return m;
}

// The message of the Error fn throws ("" when it throws none).
template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const rooflm::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Api, LoadsAndTokenizes) {
  const api::Model& m = tiny();
  EXPECT_EQ(m.arch(), "llama");
  EXPECT_EQ(m.n_threads(), 1);
  const std::vector<int32_t> ids = m.tokenize("the cat sat", false);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(m.detokenize(ids), "the cat sat");
}

TEST(Api, SpeculativeGreedyGenerationEqualsPlain) {
  const api::Model& m = tiny();
  const std::vector<int32_t> prompt = m.tokenize("the cat sat on the mat. the cat sat on the");
  api::GenerateOptions o;
  o.n_predict = 24;
  o.sampling.temperature = 0;
  const api::GenerateResult plain = api::generate(m, prompt, o);
  EXPECT_EQ(plain.drafter, "");
  for (api::SpecMode mode : {api::SpecMode::Chain, api::SpecMode::Tree, api::SpecMode::Staged}) {
    o.spec.mode = mode;
    std::vector<int32_t> streamed;
    const api::GenerateResult spec = api::generate(m, prompt, o, [&](int32_t t) { streamed.push_back(t); });
    EXPECT_EQ(spec.tokens, plain.tokens);
    EXPECT_EQ(streamed, spec.tokens);
    EXPECT_NE(spec.drafter, "");
    EXPECT_LE(spec.target_steps, plain.target_steps);
  }
}

// Handles of with_threads share the weights and generate on separate threads at once (rooflm
// serve's slots); a callback that throws stops its generation.
TEST(Api, WithThreadsHandlesGenerateConcurrentlyAndAThrowStops) {
  const std::vector<int32_t> prompt = tiny().tokenize("the cat sat on the mat. the cat sat on the");
  api::GenerateOptions o;
  o.n_predict = 24;
  o.sampling.temperature = 0;
  o.spec.mode = api::SpecMode::Staged;
  const api::GenerateResult want = api::generate(tiny(), prompt, o);
  const api::Model a = tiny().with_threads(1), b = tiny().with_threads(2);
  EXPECT_EQ(b.n_threads(), 2);
  EXPECT_EQ(b.n_vocab(), tiny().n_vocab());
  std::vector<int32_t> got_a, got_b;
  std::thread ta([&] { for (int i = 0; i < 3; i++) got_a = api::generate(a, prompt, o).tokens; });
  std::thread tb([&] { for (int i = 0; i < 3; i++) got_b = api::generate(b, prompt, o).tokens; });
  ta.join();
  tb.join();
  EXPECT_EQ(got_a, want.tokens);
  EXPECT_EQ(got_b, want.tokens);
  EXPECT_NE(error_of([] { (void)tiny().with_threads(-1); }).find("n_threads"), std::string::npos);

  struct Enough {};
  int seen = 0;
  EXPECT_THROW(api::generate(a, prompt, o, [&](int32_t) { if (++seen == 3) throw Enough{}; }), Enough);
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(api::generate(a, prompt, o).tokens, want.tokens);  // the handle still works
}

TEST(Api, SessionTreeForwardAndCommitMatchDecoding) {
  const api::Model& m = tiny();
  const std::vector<int32_t> prompt = m.tokenize("the cat");
  api::Session a(m, {.n_ctx = 64});
  api::Session b(m, {.n_ctx = 64});
  a.prefill(prompt);
  b.prefill(prompt);
  // A tree of two siblings (5, 7) under the last committed token, and a child 9 of node 1.
  const std::vector<int32_t> tokens = {5, 7, 9}, parents = {-1, -1, 1};
  const std::span<const float> tree = a.forward(tokens, parents, true);
  ASSERT_EQ(tree.size(), 3 * (size_t)a.n_vocab());
  a.commit({1, 2});
  b.decode(7);
  const std::span<const float> last = b.decode(9);
  EXPECT_EQ(a.tokens(), b.tokens());
  for (int64_t i = 0; i < a.n_vocab(); i++) EXPECT_NEAR(tree[2 * a.n_vocab() + i], last[i], 1e-4f);
  api::Sampler s({.temperature = 0}, a.n_vocab());
  EXPECT_GE(s.sample(last, a.tokens()), 0);
}

TEST(Api, ErrorsNameTheOptionField) {
  const api::Model& m = tiny();
  const std::vector<int32_t> prompt = m.tokenize("the cat");
  api::GenerateOptions o;
  o.n_predict = 8;  // the tiny model's context is 128 tokens
  o.sampling.top_p = 0;
  EXPECT_NE(error_of([&] { api::generate(m, prompt, o); }).find("SamplerOptions::top_p"), std::string::npos);
  o = {};
  o.n_predict = 8;
  o.spec.mode = api::SpecMode::Tree;
  o.spec.tree_size = 0;
  const std::string tree_error = error_of([&] { api::generate(m, prompt, o); });
  EXPECT_NE(tree_error.find("SpecOptions::tree_size"), std::string::npos) << tree_error;
  o = {};
  o.n_predict = 1 << 20;
  EXPECT_NE(error_of([&] { api::generate(m, prompt, o); }).find("GenerateOptions::n_predict"), std::string::npos);
  EXPECT_NE(error_of([&] { api::Session(m, {.n_ctx = 0}); }).find("SessionOptions::n_ctx"), std::string::npos);
  EXPECT_NE(error_of([&] { api::Model::load(fixture("tiny_llama/tiny_llama.gguf"), {.n_threads = -1}); })
                .find("ModelOptions::n_threads"),
            std::string::npos);
  EXPECT_NE(error_of([&] { api::Model::load(fixture("no_such_model.gguf")); }), "");
  // No CLI flag in any of them.
  o = {};
  o.n_predict = 8;
  o.sampling.temperature = -1;
  EXPECT_EQ(error_of([&] { api::generate(m, prompt, o); }).find("--"), std::string::npos);
}
