// Speculative decoding on the real default model (SmolLM2-135M-Instruct Q4_1): greedy output
// equals plain greedy decoding token for token in every mode (n-gram drafters, and SmolLM2
// drafting for itself: the only same-tokenizer pair among the fetched models, so greedy
// acceptance is total and this is a correctness check), including a stop at end-of-turn;
// the first two sampled tokens follow the exact target distribution; bad inputs fail with
// errors naming the flag. Kept small: a few prompts, n = 40.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "decode/generate.h"
#include "decode/speculative/spec_config.h"
#include "decode/speculative/speculative.h"
#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

using namespace rooflm;
using namespace rooflm::spec;

namespace {

const Model& smollm2() {
  static std::unique_ptr<Model> m = Model::load(test::default_model_path());
  return *m;
}

// HumanEval/2 and HumanEval/23 (as in /work/shared/bench/humaneval_prompts.jsonl), and an
// MT-Bench first turn through the chat template.
const char* kHumanEval2 =
    "\n\ndef truncate_number(number: float) -> float:\n    \"\"\" Given a positive floating point number, it can be "
    "decomposed into\n    and integer part (largest integer smaller than given number) and decimals\n    (leftover "
    "part always smaller than 1).\n\n    Return the decimal part of the number.\n    >>> truncate_number(3.5)\n    "
    "0.5\n    \"\"\"\n";
const char* kHumanEval23 =
    "\n\ndef strlen(string: str) -> int:\n    \"\"\" Return length of given string\n    >>> strlen('')\n    0\n    "
    ">>> strlen('abc')\n    3\n    \"\"\"\n";
const char* kMtBench =
    "Draft a professional email seeking your supervisor's feedback on the 'Quarterly Financial Report' you prepared. "
    "Keep the email short and to the point.";

std::vector<int32_t> encode_raw(const char* text) { return smollm2().tokenizer().encode(text, true, false); }
std::vector<int32_t> encode_chat(const char* text) {
  const Tokenizer& t = smollm2().tokenizer();
  return t.encode(t.apply_chat_template({{"user", text}}, true), false, true);
}

SamplerParams greedy() {
  SamplerParams sp;
  sp.temperature = 0;
  return sp;
}

ThreadPool& pool() {
  static ThreadPool p(2);
  return p;
}

GenerateResult plain(const std::vector<int32_t>& prompt, int64_t n) {
  SessionOptions so;
  so.n_ctx = (int64_t)prompt.size() + n + 64;
  so.max_logits = 1;
  Session s(smollm2(), so, pool());
  Sampler sampler(greedy(), smollm2().config().n_vocab);
  return generate_autoregressive(s, sampler, prompt, n, nullptr);
}

struct Result {
  GenerateResult r;
  SpecStats st;
};

Result speculative(SpecConfig c, const std::vector<int32_t>& prompt, int64_t n) {
  const int64_t n_ctx = (int64_t)prompt.size() + n + 64;
  SpecSetup setup = make_spec(c, smollm2(), greedy(), n_ctx, pool());
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.max_logits = setup.max_logits;
  so.keep_features = setup.target_features;
  Session s(smollm2(), so, pool());
  Sampler sampler(greedy(), smollm2().config().n_vocab);
  Result out;
  out.r = generate_speculative(s, sampler, *setup.drafter, setup.limits, prompt, n, nullptr, &out.st);
  return out;
}

SpecConfig mode(SpecMode m, bool self_draft = false) {
  SpecConfig c;
  c.mode = m;
  if (self_draft) c.draft_path = test::default_model_path();
  return c;
}

std::string shipped_head_path() { return test::source_dir() + "/heads/smollm2-135m-instruct.head.gguf"; }

}  // namespace

TEST(SpecSmolLM2, GreedyEqualsPlainDecodingNgramModes) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const int64_t n = 40;
  for (const auto& prompt : {encode_raw(kHumanEval2), encode_raw(kHumanEval23), encode_chat(kMtBench)}) {
    const GenerateResult base = plain(prompt, n);
    for (SpecMode m : {SpecMode::Chain, SpecMode::Tree, SpecMode::Staged}) {
      Result s = speculative(mode(m), prompt, n);
      EXPECT_EQ(s.r.tokens, base.tokens) << spec_mode_name(m);
      EXPECT_EQ(s.r.stop_reason, base.stop_reason) << spec_mode_name(m);
      EXPECT_LE(s.r.target_steps, base.target_steps) << spec_mode_name(m);
    }
  }
}

// The shipped draft head, given with -d and found with --head: the same tokens.
TEST(SpecSmolLM2, GreedyEqualsPlainDecodingShippedHead) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const int64_t n = 40;
  for (const auto& prompt : {encode_raw(kHumanEval2), encode_chat(kMtBench)}) {
    const GenerateResult base = plain(prompt, n);
    for (SpecMode m : {SpecMode::Chain, SpecMode::Tree, SpecMode::Staged}) {
      SpecConfig c = mode(m);
      c.draft_path = shipped_head_path();
      Result s = speculative(c, prompt, n);
      EXPECT_EQ(s.r.tokens, base.tokens) << spec_mode_name(m);
      EXPECT_LE(s.r.target_steps, base.target_steps) << spec_mode_name(m);
    }
    SpecConfig c = mode(SpecMode::Staged);
    c.shipped_head = true;  // --head
    ASSERT_EQ(find_shipped_head(smollm2()), shipped_head_path());
    Result s = speculative(c, prompt, n);
    EXPECT_EQ(s.r.tokens, base.tokens) << "staged with the shipped head (--head)";
    EXPECT_LT(s.r.target_steps, base.target_steps) << "the head should be right some of the time";
  }
}

TEST(SpecSmolLM2, GreedyEqualsPlainDecodingSelfDraft) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const int64_t n = 40;
  const auto prompt = encode_raw(kHumanEval2);
  const GenerateResult base = plain(prompt, n);
  for (SpecMode m : {SpecMode::Chain, SpecMode::Tree, SpecMode::Staged}) {
    SpecConfig c = mode(m, true);
    c.adaptive = false;  // verify every candidate, so the step count is exact
    Result s = speculative(c, prompt, n);
    EXPECT_EQ(s.r.tokens, base.tokens) << spec_mode_name(m);
    // The draft is the target: its greedy chain is always accepted, K + 1 tokens per step.
    if (m != SpecMode::Tree) {
      EXPECT_LE(s.r.target_steps, (n + c.draft_len) / (c.draft_len + 1) + 1) << spec_mode_name(m);
    } else {
      EXPECT_LT(s.r.target_steps, base.target_steps / 2);
    }
  }
}

TEST(SpecSmolLM2, StopsAtEndOfTurnLikePlainDecoding) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const auto prompt = encode_chat("What is 2+2? Answer with one number.");
  const GenerateResult base = plain(prompt, 60);
  ASSERT_EQ(base.stop_reason, "eos") << "the model did not stop; pick another prompt";
  for (SpecConfig c : {mode(SpecMode::Staged), mode(SpecMode::Chain, true)}) {
    Result s = speculative(c, prompt, 60);
    EXPECT_EQ(s.r.tokens, base.tokens) << spec_mode_name(c.mode);
    EXPECT_EQ(s.r.stop_reason, "eos");
  }
}

TEST(SpecSmolLM2, FirstTwoSampledTokensFollowTheTarget) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  // A prompt the n-gram drafter continues well, so proposals are accepted and rejected.
  const auto prompt = encode_raw("red green blue, red green blue, red green blue, red green");
  SamplerParams sp;
  sp.temperature = 1.5f;
  sp.top_k = 3;
  sp.top_p = 1;
  sp.min_p = 0;
  const int64_t V = smollm2().config().n_vocab;
  // Exact joint of (t0, t1).
  std::map<std::pair<int32_t, int32_t>, double> want;
  std::vector<float> first((size_t)V), p0((size_t)V), p1((size_t)V);
  {
    SessionOptions so;
    so.n_ctx = 128;
    Session s(smollm2(), so, pool());
    Sampler sampler(sp, V);
    const float* l = s.prefill(prompt);
    std::copy(l, l + V, first.begin());
    sampler.probabilities(first.data(), s.tokens(), p0.data());
    for (int32_t a = 0; a < V; a++) {
      if (p0[(size_t)a] <= 0) continue;
      const float* l1 = s.decode(a);
      sampler.probabilities(l1, s.tokens(), p1.data());
      for (int32_t b = 0; b < V; b++)
        if (p1[(size_t)b] > 0) want[{a, b}] = (double)p0[(size_t)a] * p1[(size_t)b];
      s.truncate((int64_t)prompt.size());
    }
  }
  SpecConfig c = mode(SpecMode::Staged);
  c.draft_len = 1;
  c.tree_width = 3;
  c.adaptive = false;  // the budget times forwards: on a busy machine it could pause drafting
  SpecSetup setup = make_spec(c, smollm2(), sp, 128, pool());
  SessionOptions so;
  so.n_ctx = 128;
  so.max_logits = setup.max_logits;
  so.keep_features = setup.target_features;
  Session s(smollm2(), so, pool());
  s.prefill(prompt);
  const int runs = 400;
  std::map<std::pair<int32_t, int32_t>, int> got;
  SpecStats st;
  for (int run = 0; run < runs; run++) {
    s.truncate((int64_t)prompt.size());
    SamplerParams spr = sp;
    spr.seed = 500 + (uint64_t)run;
    Sampler sampler(spr, V);
    GenerateResult r = decode_speculative(s, sampler, *setup.drafter, setup.limits, first.data(), 2, nullptr, &st);
    ASSERT_EQ(r.tokens.size(), 2u);
    got[{r.tokens[0], r.tokens[1]}]++;
  }
  EXPECT_GT(st.accepted, runs / 10) << "the drafter should be right some of the time";
  double chi = 0;
  for (auto& [k, n] : got) EXPECT_TRUE(want.count(k)) << "impossible pair";
  for (auto& [k, p] : want) {
    const double e = p * runs, o = got.count(k) ? got[k] : 0;
    chi += (o - e) * (o - e) / e;
  }
  const int df = (int)want.size() - 1;
  const double a = 2.0 / (9.0 * df), limit = df * std::pow(1 - a + 3.719 * std::sqrt(a), 3);
  std::printf("  chi2 %.1f (df %d, limit %.1f), accepted %lld\n", chi, df, limit, (long long)st.accepted);
  EXPECT_LT(chi, limit);
}

TEST(SpecSmolLM2, BadInputsNameTheFlag) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  auto error_of = [](SpecConfig c, int64_t n_ctx) -> std::string {
    try {
      make_spec(c, smollm2(), greedy(), n_ctx, pool());
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  // A draft model with another vocabulary (tiny_llama: 400 tokens).
  SpecConfig c = mode(SpecMode::Chain);
  c.draft_path = test::source_dir() + "/tests/fixtures/tiny_llama/tiny_llama.gguf";
  std::string e = error_of(c, 256);
  EXPECT_NE(e.find("SpecOptions::draft_path"), std::string::npos) << e;
  EXPECT_NE(e.find("vocabulary"), std::string::npos) << e;
  c = mode(SpecMode::Tree);
  c.tree_size = 0;
  EXPECT_NE(error_of(c, 256).find("SpecOptions::tree_size"), std::string::npos);
  c.tree_size = 300;
  EXPECT_NE(error_of(c, 256).find("SpecOptions::tree_size"), std::string::npos);  // beyond the context
  c = mode(SpecMode::Staged);
  c.ngram_corpus = test::temp_path("missing_corpus.txt");
  EXPECT_NE(error_of(c, 256).find("SpecOptions::ngram_corpus"), std::string::npos);

  // The same through the CLI: exit status 1 and one line naming the flag.
  const std::string bin = test::rooflm_binary();
  auto run = [&](const std::string& args) {
    const std::string out = test::temp_path("spec_cli.txt");
    const std::string cmd = bin + " generate -m " + test::default_model_path() + " -p hi -n 4 " + args +
                            " > " + out + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::FILE* f = std::fopen(out.c_str(), "r");
    std::string text;
    char buf[512];
    while (f && std::fgets(buf, sizeof buf, f)) text += buf;
    if (f) std::fclose(f);
    std::remove(out.c_str());
    return std::make_pair(rc, text);
  };
  auto [rc1, t1] = run("--spec chain -d " + test::source_dir() + "/tests/fixtures/tiny_llama/tiny_llama.gguf");
  EXPECT_NE(rc1, 0);
  EXPECT_NE(t1.find("-d/--draft"), std::string::npos) << t1;
  auto [rc2, t2] = run("--spec tree --tree-size 0");
  EXPECT_NE(rc2, 0);
  EXPECT_NE(t2.find("--tree-size"), std::string::npos) << t2;
  auto [rc3, t3] = run("--spec staged --ngram-corpus /nonexistent/corpus.txt");
  EXPECT_NE(rc3, 0);
  EXPECT_NE(t3.find("--ngram-corpus"), std::string::npos) << t3;
  auto [rc4, t4] = run("--spec fast");
  EXPECT_NE(rc4, 0);
  EXPECT_NE(t4.find("--spec"), std::string::npos) << t4;
  auto [rc5, t5] = run("--spec tree --tree-size 400 -c 300");
  EXPECT_NE(rc5, 0);
  EXPECT_NE(t5.find("--tree-size"), std::string::npos) << t5;
}

TEST(SpecSmolLM2, CliJsonReportsSpeculativeKeys) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const std::string bin = test::rooflm_binary();
  const std::string out = test::temp_path("spec_cli.json");
  const std::string base = bin + " generate -m " + test::default_model_path() +
                           " -p 'one two three, one two three, one two' -n 12 --temp 0 --json ";
  auto read = [&](const std::string& args) {
    EXPECT_EQ(std::system((base + args + " > " + out).c_str()), 0) << args;
    std::FILE* f = std::fopen(out.c_str(), "r");
    std::string text;
    char buf[4096];
    while (f && std::fgets(buf, sizeof buf, f)) text += buf;
    if (f) std::fclose(f);
    std::remove(out.c_str());
    return text;
  };
  const std::string plain_json = read("");
  const std::string spec_json = read("--spec staged --tree-size 8");
  EXPECT_NE(plain_json.find("\"mode\": \"none\""), std::string::npos);
  EXPECT_NE(spec_json.find("\"mode\": \"staged\""), std::string::npos);
  for (const char* key : {"\"target_steps\"", "\"accepted_per_step\"", "\"acceptance_by_depth\"", "\"draft_share\"",
                          "\"verify_share\"", "\"tree_size\": 8", "\"decode_tok_s\"", "\"tokens\""})
    EXPECT_NE(spec_json.find(key), std::string::npos) << key;
  // Same greedy tokens.
  auto tokens = [](const std::string& js) { return js.substr(js.find("\"tokens\""), js.find(']', js.find("\"tokens\"")) - js.find("\"tokens\"")); };
  EXPECT_EQ(tokens(spec_json), tokens(plain_json));
}
