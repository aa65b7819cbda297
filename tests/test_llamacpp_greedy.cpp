// Greedy text of SmolLM2 equal to llama.cpp's (tests/fixtures/llamacpp_greedy.json, made by
// scripts/make_llamacpp_fixtures.py from llama.cpp 0c1e57098): same prompt ids, and the same
// generated ids up to the first step where llama.cpp's own top-1/top-2 margin is a near-tie
// (< 0.25), after which either engine's choice is legitimate.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "decode/sampler.h"
#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

using namespace rooflm;

TEST(LlamaCppGreedy, SmolLM2GreedyTokensEqualLlamaCpp) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  std::ifstream in(test::source_dir() + "/tests/fixtures/llamacpp_greedy.json");
  ASSERT_TRUE(in);
  const auto fx = nlohmann::json::parse(in);
  auto model = Model::load(test::default_model_path());
  const int64_t V = model->config().n_vocab;
  ThreadPool pool(2);
  int compared = 0;
  for (const auto& c : fx["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto want_prompt = c["prompt_ids"].get<std::vector<int32_t>>();
    const auto prompt = model->tokenizer().encode(c["prompt"].get<std::string>(), true, true);
    ASSERT_EQ(prompt, want_prompt);
    const auto want = c["generated_ids"].get<std::vector<int32_t>>();
    const auto margins = c["margins"].get<std::vector<double>>();
    SessionOptions so;
    so.n_ctx = 128;
    Session s(*model, so, pool);
    const float* logits = s.prefill(prompt);
    for (size_t i = 0; i < want.size(); i++) {
      if (margins[i] < 0.25) break;  // near-tie: either choice is legitimate; stop comparing
      const int32_t got = Sampler::argmax(logits, V);
      ASSERT_EQ(got, want[i]) << "step " << i;
      compared++;
      logits = s.decode(got);
    }
  }
  std::printf("compared %d greedy steps with llama.cpp\n", compared);
  EXPECT_GE(compared, 40);
}
