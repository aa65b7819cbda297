// Greedy text of SmolLM2 equal to llama.cpp's (tests/fixtures/llamacpp_greedy.json, made by
// scripts/make_llamacpp_fixtures.py from llama.cpp 0c1e57098): same prompt ids, and the same
// generated ids up to the first step where llama.cpp's own top-1/top-2 margin is a near-tie
// (< 0.25), after which either engine's choice is legitimate.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "decode/sampler.h"
#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

using namespace rooflm;

namespace {

// Returns the number of greedy steps compared.
int compare_with_llamacpp(const std::string& fixture, const std::string& model_path) {
  std::ifstream in(test::source_dir() + "/tests/fixtures/" + fixture);
  EXPECT_TRUE(in) << fixture;
  const auto fx = nlohmann::json::parse(in);
  auto model = Model::load(model_path);
  const int64_t V = model->config().n_vocab;
  ThreadPool pool(2);
  int compared = 0;
  for (const auto& c : fx["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto want_prompt = c["prompt_ids"].get<std::vector<int32_t>>();
    const auto prompt = model->tokenizer().encode(c["prompt"].get<std::string>(), true, true);
    EXPECT_EQ(prompt, want_prompt);
    if (prompt != want_prompt) continue;
    const auto want = c["generated_ids"].get<std::vector<int32_t>>();
    const auto margins = c["margins"].get<std::vector<double>>();
    SessionOptions so;
    so.n_ctx = 128;
    Session s(*model, so, pool);
    const float* logits = s.prefill(prompt);
    for (size_t i = 0; i < want.size(); i++) {
      if (margins[i] < 0.25) break;  // near-tie: either choice is legitimate; stop comparing
      const int32_t got = Sampler::argmax(logits, V);
      EXPECT_EQ(got, want[i]) << "step " << i;
      if (got != want[i]) break;
      compared++;
      logits = s.decode(got);
    }
  }
  std::printf("%s: compared %d greedy steps with llama.cpp\n", fixture.c_str(), compared);
  return compared;
}

}  // namespace

TEST(LlamaCppGreedy, SmolLM2GreedyTokensEqualLlamaCpp) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  EXPECT_GE(compare_with_llamacpp("llamacpp_greedy.json", test::default_model_path()), 40);
}

// Gemma 3 (Q4_K/Q5_0/Q6_K/Q8_0 weights, sliding-window layers, GeGLU, extra norms); the
// fixture was made by the same script: scripts/make_llamacpp_fixtures.py --model
// models/gemma-3-270m-q4_k_m.gguf --n 16 --out tests/fixtures/llamacpp_greedy_gemma3.json
TEST(LlamaCppGreedy, Gemma3GreedyTokensEqualLlamaCpp) {
  const std::string path = test::source_dir() + "/models/gemma-3-270m-q4_k_m.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "gemma3 not fetched (scripts/fetch_models.py --models gemma3)";
  EXPECT_GE(compare_with_llamacpp("llamacpp_greedy_gemma3.json", path), 15);
}
