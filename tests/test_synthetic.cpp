// Synthetic models (scripts/make_synthetic_model.py: random weights, real shapes) and the
// verify-cost curve (rooflm bench --verify-curve). No timing thresholds: values are checked
// for shape and sanity only, so the tests pass on any machine at any load.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "bench/verify_curve.h"
#include "core/error.h"
#include "model/model.h"
#include "model/session.h"
#include "roofline/probe.h"
#include "test_util.h"

namespace {

namespace test = rooflm::test;

bool have_generator() {
  return test::run_shell("python3 -c 'import gguf, numpy'").status == 0;
}

#define REQUIRE_GENERATOR()                                                             \
  do {                                                                                  \
    if (!have_generator()) GTEST_SKIP() << "python3 with numpy and gguf is not available"; \
  } while (0)

// Writes (once per preset and type) a synthetic model into the temp directory.
std::string synthetic(const std::string& preset, const std::string& type) {
  static std::map<std::string, std::string> made;
  const std::string key = preset + "." + type;
  if (auto it = made.find(key); it != made.end()) return it->second;
  const std::string out = test::temp_path("synthetic_" + key + ".gguf");
  const test::CmdResult r = test::run_shell("python3 '" + test::source_dir() + "/scripts/make_synthetic_model.py' --preset " +
                                            preset + " --type " + type + " --seed 7 -q --out '" + out + "'");
  EXPECT_EQ(r.status, 0) << r.out;
  made[key] = out;
  return out;
}

// A probe result with made-up roofs (the verify-curve tests must not measure the machine).
std::string fake_probe() {
  static const std::string path = [] {
    rooflm::roofline::ProbeResult p;
    p.cpu_model = "test CPU";
    p.cpu_key = "test";
    p.threads = 2;
    p.caches = {{2, "Unified", 1 << 20, 1}, {3, "Unified", 32 << 20, 2}};
    p.bandwidth = {{"L2", 1 << 20, 200e9, 0}, {"L3", 16 << 20, 100e9, 90e9}, {"DRAM", 1ull << 30, 20e9, 18e9}};
    p.compute = {{"fp32 FMA", "fp32", 1e11}};
    const std::string f = test::temp_path("probe.json");
    std::ofstream(f) << rooflm::roofline::probe_to_json(p);
    return f;
  }();
  return path;
}

}  // namespace

TEST(Synthetic, GeneratedModelsLoadAndDecode) {
  REQUIRE_GENERATOR();
  // Every architecture the generator knows, and every weight type it writes.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tiny", "Q4_0"}, {"tiny", "Q4_1"}, {"tiny", "Q4_K"}, {"tiny", "Q5_K"}, {"tiny", "Q6_K"},
      {"tiny", "Q8_0"}, {"tiny", "F16"},  {"tiny-qwen2", "Q4_0"}, {"tiny-gemma3", "Q4_K"}};
  for (const auto& [preset, type] : cases) {
    SCOPED_TRACE(preset + " " + type);
    const std::string path = synthetic(preset, type);
    std::unique_ptr<rooflm::Model> m = rooflm::Model::load(path);
    const rooflm::ModelConfig& c = m->config();
    EXPECT_TRUE(c.synthetic);
    EXPECT_EQ(c.name, preset + " (synthetic random weights)");
    EXPECT_EQ(c.n_vocab, 512);
    EXPECT_EQ(m->tokenizer().n_vocab(), 512);
    if (preset == "tiny-gemma3") {
      EXPECT_TRUE(c.qk_norm && c.post_norms);
      EXPECT_EQ(c.sliding_window, 16);
      EXPECT_EQ(c.head_dim, 128);
    }
    if (preset == "tiny-qwen2") {
      EXPECT_TRUE(c.qkv_bias);
    }
    rooflm::ThreadPool pool(2);
    rooflm::SessionOptions so;
    so.n_ctx = 64;
    rooflm::Session s(*m, so, pool);
    std::vector<int32_t> prompt = m->tokenizer().encode("hello synthetic world", true, false);
    ASSERT_FALSE(prompt.empty());
    const float* logits = s.prefill(prompt);
    // Sane random weights: finite logits that are not all equal, for 20 decode steps past the
    // gemma3 preset's sliding window.
    for (int step = 0; step < 20; step++) {
      int best = 0;
      double lo = logits[0], hi = logits[0];
      for (int64_t i = 0; i < c.n_vocab; i++) {
        ASSERT_TRUE(std::isfinite(logits[i])) << "step " << step << " logit " << i;
        lo = std::min<double>(lo, logits[i]);
        hi = std::max<double>(hi, logits[i]);
        if (logits[i] > logits[best]) best = (int)i;
      }
      ASSERT_GT(hi - lo, 1e-3);
      logits = s.decode(best);
    }
  }
}

TEST(Synthetic, SameSeedSameFile) {
  REQUIRE_GENERATOR();
  const std::string a = synthetic("tiny", "Q4_0");
  const std::string b = test::temp_path("synthetic_again.gguf");
  ASSERT_EQ(test::run_shell("python3 '" + test::source_dir() + "/scripts/make_synthetic_model.py' --preset tiny --type Q4_0 "
                            "--seed 7 -q --out '" + b + "' && cmp '" + a + "' '" + b + "'").status, 0);
  std::filesystem::remove(b);
}

TEST(Synthetic, GeneratorRejectsBadArguments) {
  REQUIRE_GENERATOR();
  const std::string script = "python3 '" + test::source_dir() + "/scripts/make_synthetic_model.py'";
  const std::string out = test::temp_path("never.gguf");
  for (const auto& [args, needle] : std::vector<std::pair<std::string, std::string>>{
           {"--preset nosuch --out " + out, "--preset"},
           {"--preset tiny --type Q3_K --out " + out, "--type"},
           {"--preset tiny", "--out"}}) {
    const test::CmdResult r = test::run_shell(script + " " + args);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_NE(r.out.find(needle), std::string::npos) << args << "\n" << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Synthetic, GenerateWarnsOnceAndBenchLabels) {
  REQUIRE_GENERATOR();
  const std::string m = synthetic("tiny", "Q4_0");
  const test::CmdResult r = test::run_rooflm("generate -m " + m + " -p hello -n 4 --temp 0 -t 1");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string warning = "has random weights (synthetic, for speed measurements); its text is meaningless";
  const size_t at = r.out.find(warning);
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(warning, at + 1), std::string::npos) << "one warning line";

  const std::string prompts = test::temp_path("synthetic_prompts.jsonl");
  std::ofstream(prompts) << "{\"prompt\": \"hello there\"}\n";
  const std::string json = test::temp_path("synthetic_bench.json");
  const test::CmdResult b = test::run_rooflm("bench -m " + m + " --prompts " + prompts +
                                             " --modes baseline -n 4 -t 1 --warmup 0 --json " + json);
  ASSERT_EQ(b.status, 0) << b.out;
  EXPECT_NE(b.out.find("(synthetic)"), std::string::npos) << b.out;
  const auto j = nlohmann::json::parse(std::ifstream(json));
  EXPECT_EQ(j["config"]["synthetic"], true);
  std::filesystem::remove(prompts);
  std::filesystem::remove(json);
}

TEST(Synthetic, RealModelDoesNotWarn) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const test::CmdResult r = test::run_rooflm("generate -m " + test::default_model_path() + " -p hello -n 2 --temp 0 -t 1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("random weights"), std::string::npos) << r.out;
}

TEST(VerifyCurve, JsonTableAndChart) {
  REQUIRE_GENERATOR();
  const std::string m = synthetic("tiny", "Q4_0");
  const std::string json = test::temp_path("verify.json"), svg = test::temp_path("verify.svg");
  const test::CmdResult r = test::run_rooflm("bench -m " + m + " --verify-curve 4,2,16,2 --context 8 --rounds 2 -t 2 --hw " +
                                             fake_probe() + " --json " + json + " --chart " + svg);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("(synthetic)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bound"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(std::ifstream(json));
  EXPECT_EQ(j["config"]["synthetic"], true);
  EXPECT_EQ(j["config"]["context"], 8);
  EXPECT_EQ(j["config"]["rounds"], 2);
  EXPECT_FALSE(j["kernel_path"].get<std::string>().empty());
  // The tiny model's ~0.4 MB of weights fit the made-up probe's 2 MiB of L2.
  EXPECT_EQ(j["roof"]["level"], "L2");
  EXPECT_EQ(j["roof"]["bytes_per_s"], 200e9);
  EXPECT_GT(j["roof"]["weight_bytes"].get<double>(), 0);
  ASSERT_EQ(j["kernels"].size(), 1u);
  EXPECT_EQ(j["kernels"][0]["type"], "q4_0");
  const auto& v = j["verify_curve"];
  ASSERT_EQ(v.size(), 4u);  // 1 added, 2 once, sorted
  const std::vector<int> nodes = {1, 2, 4, 16};
  for (size_t i = 0; i < v.size(); i++) {
    SCOPED_TRACE(i);
    EXPECT_EQ(v[i]["nodes"], nodes[i]);
    for (const char* k : {"ms", "steps", "bound_ms", "bound_steps", "memory_ms", "compute_ms"}) {
      ASSERT_TRUE(v[i].contains(k)) << k;
      EXPECT_GT(v[i][k].get<double>(), 0) << k;
      EXPECT_TRUE(std::isfinite(v[i][k].get<double>())) << k;
    }
    EXPECT_EQ(v[i]["samples"], 2);
    EXPECT_DOUBLE_EQ(v[i]["bound_ms"].get<double>(),
                     std::max(v[i]["memory_ms"].get<double>(), v[i]["compute_ms"].get<double>()));
    // Memory grows with N only by the K/V rows of the extra nodes (compute depends on the
    // machine's measured throughput: not checked here).
    if (i > 0) {
      EXPECT_GT(v[i]["memory_ms"].get<double>(), v[i - 1]["memory_ms"].get<double>());
      EXPECT_LT(v[i]["memory_ms"].get<double>(), v[i - 1]["memory_ms"].get<double>() * 1.5);
    }
  }
  EXPECT_DOUBLE_EQ(v[0]["steps"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(v[0]["bound_steps"].get<double>(), 1.0);
  std::ifstream in(svg);
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(s.rfind("<svg", 0), 0u);
  EXPECT_NE(s.find("data-series=\"measured\""), std::string::npos);
  EXPECT_NE(s.find("data-series=\"bound\""), std::string::npos);
  EXPECT_NE(s.find("</svg>"), std::string::npos);
  std::filesystem::remove(json);
  std::filesystem::remove(svg);
}

TEST(VerifyCurve, BadArgumentsNameTheFlag) {
  REQUIRE_GENERATOR();
  const std::string m = synthetic("tiny", "Q4_0");
  const std::string json = test::temp_path("verify_bad.json");
  auto expect_error = [&](const std::string& args, const std::string& needle) {
    const test::CmdResult r = test::run_rooflm("bench -m " + m + " " + args + " --hw " + fake_probe() + " --json " + json);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(needle), std::string::npos) << args << "\nexpected '" << needle << "' in:\n" << r.out;
    EXPECT_FALSE(std::filesystem::exists(json)) << args;
  };
  expect_error("--verify-curve 0", "--verify-curve");
  expect_error("--verify-curve 1,-4", "--verify-curve");
  expect_error("--verify-curve 1,x", "--verify-curve");
  expect_error("--verify-curve 1,,2", "--verify-curve");
  expect_error("--verify-curve 1,100000", "--verify-curve: 100000 nodes");
  expect_error("--verify-curve 1,2 --context -1", "--context");
  expect_error("--verify-curve 1,64 --context 2000", "--context: 2000 tokens + 64 nodes exceed the model's context of 2048");
  expect_error("--verify-curve 1,2 --rounds 0", "--rounds");
  expect_error("--verify-curve 1,2 --prompts x.jsonl", "--verify-curve");
  expect_error("--verify-curve 1,2 --ops-chart x.svg", "--ops-chart");
  const test::CmdResult r = test::run_rooflm("bench -m " + m + " --verify-curve 1,2 --hw a100-80gb-pcie");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("--hw"), std::string::npos) << r.out;
  const test::CmdResult np = test::run_rooflm("bench -m " + m + " --modes baseline");
  EXPECT_EQ(np.status, 1);
  EXPECT_NE(np.out.find("--prompts"), std::string::npos) << np.out;
}

TEST(VerifyCurve, NodeListParsing) {
  EXPECT_EQ(rooflm::bench::parse_node_list("8,2, 4,8", 512, "--verify-curve"), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(rooflm::bench::parse_node_list("1", 512, "--verify-curve"), (std::vector<int>{1}));
  EXPECT_THROW(rooflm::bench::parse_node_list("513", 512, "--verify-curve"), rooflm::Error);
  EXPECT_THROW(rooflm::bench::parse_node_list("", 512, "--verify-curve"), rooflm::Error);
}

TEST(VerifyCurve, BoundIsTheLargerOfMemoryAndCompute) {
  rooflm::bench::VerifyCurve c;
  c.weight_bytes = 1e9;
  c.kv_bytes_per_row = 0;
  c.roof_bytes_per_s = 1e10;  // 100 ms to stream the weights
  c.context = 0;
  rooflm::bench::KernelRate k;
  k.macs_per_token = 1e9;
  k.macs_per_s = {1e11, 1e12, 1e12};  // 10 ms per token at N = 1; 1 ms per token from N = 16
  c.kernels = {k};
  for (int n : {1, 16, 256}) {
    rooflm::bench::VerifyPoint p;
    p.nodes = n;
    p.ms = 100.0 + n;
    c.points.push_back(p);
  }
  rooflm::bench::compute_bounds(c);
  EXPECT_DOUBLE_EQ(c.points[0].memory_ms, 100);
  EXPECT_DOUBLE_EQ(c.points[0].compute_ms, 10);
  EXPECT_DOUBLE_EQ(c.points[0].bound_ms, 100);
  EXPECT_DOUBLE_EQ(c.points[1].bound_ms, 100);     // 16 ms of arithmetic: still memory-bound
  EXPECT_DOUBLE_EQ(c.points[2].bound_ms, 256);     // compute-bound
  EXPECT_DOUBLE_EQ(c.points[2].bound_steps, 2.56);
  EXPECT_DOUBLE_EQ(c.points[2].steps, 356.0 / 101.0);
}
