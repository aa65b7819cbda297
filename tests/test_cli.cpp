// The rooflm binary on bad input: a clear one-line error naming the file/field/argument,
// exit status 1 (never a crash or signal), and no output file left behind.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace {

using rooflm::test::CmdResult;
using rooflm::test::run_rooflm;

void expect_error(const std::string& args, const std::string& needle) {
  const CmdResult r = run_rooflm(args);
  EXPECT_EQ(r.status, 1) << args << "\n" << r.out;
  EXPECT_NE(r.out.find(needle), std::string::npos) << args << "\nexpected '" << needle << "' in:\n" << r.out;
  EXPECT_EQ(r.out.find("terminate called"), std::string::npos) << r.out;
}

std::string model() { return rooflm::test::default_model_path(); }

}  // namespace

TEST(CLI, BadModelFiles) {
  expect_error("generate -m /no/such/model.gguf -p hi", "/no/such/model.gguf");
  const std::string junk = rooflm::test::temp_path("junk.gguf");
  rooflm::test::write_bytes(junk, {'N', 'O', 'P', 'E', 1, 2, 3});
  expect_error("generate -m " + junk + " -p hi", "not a GGUF file");
  // Unknown architecture in an otherwise valid file.
  rooflm::test::GGUFBuilder g;
  g.header(3, 0, 1);
  g.kv_str("general.architecture", "mamba");
  rooflm::test::write_bytes(junk, g.b);
  expect_error("generate -m " + junk + " -p hi", "'mamba' is not supported");
  std::remove(junk.c_str());
}

TEST(CLI, TruncatedRealModel) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  // The first 20 MB of the real file: header intact, tensor data cut off.
  const std::string cut = rooflm::test::temp_path("cut.gguf");
  {
    std::ifstream in(model(), std::ios::binary);
    std::vector<char> head(20 << 20);
    in.read(head.data(), (std::streamsize)head.size());
    std::ofstream out(cut, std::ios::binary);
    out.write(head.data(), (std::streamsize)head.size());
  }
  expect_error("generate -m " + cut + " -p hi", "past end of file");
  std::remove(cut.c_str());
}

TEST(CLI, BadArgumentsAndLimits) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  expect_error("generate -m " + model() + " -p hi -t 0", "--threads");
  expect_error("generate -m " + model() + " -p hi --top-p 0", "--top-p");
  expect_error("generate -m " + model() + " -p hi -n 9000", "exceed the model's context of 8192");
  expect_error("generate -m " + model() + " -p 'one two three four five' -n 4 -c 3", "does not fit a context of 3");
  expect_error("generate -m " + model(), "-p TEXT or -f FILE");
  expect_error("generate -m " + model() + " -f /no/such/prompt.txt", "/no/such/prompt.txt");
  // A prompt longer than the model's 8192-token context.
  const std::string big = rooflm::test::temp_path("big.txt");
  {
    std::ofstream out(big);
    for (int i = 0; i < 9000; i++) out << " hello";
  }
  const std::string prof = rooflm::test::temp_path("prof.json");
  expect_error("generate -m " + model() + " -f " + big + " -n 4 --profile " + prof, "longer than the model's context");
  EXPECT_FALSE(std::filesystem::exists(prof)) << "no partial output on error";
  std::remove(big.c_str());
}

TEST(CLI, ProbeWorkingSetArguments) {
  expect_error("probe --working-set 96x", "--working-set: expected a size");
  expect_error("probe --working-set 1K", "64 KiB to 64 GiB");
  expect_error("probe --working-set 65G", "64 KiB to 64 GiB");
  expect_error("probe --working-set M", "got 'M'");
  expect_error("probe --working-set 1M --cached", "choose one");
  // (2^34 + 1) GiB wraps to 1 GiB in 64 bits: must be refused, not measured
  expect_error("probe --working-set 17179869185G", "64 KiB to 64 GiB");
  // A working-set run prints its one level and never writes the probe cache.
  const std::string dir = rooflm::test::temp_path("probe_cache");
  std::filesystem::remove_all(dir);
  const CmdResult r = run_rooflm("probe --working-set 1M -t 1 --quick", "ROOFLM_CACHE_DIR=" + dir);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("set "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("cached:"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir) && !std::filesystem::is_empty(dir)) << "a working-set result was cached";
  std::filesystem::remove_all(dir);
}

TEST(CLI, GenerateJsonHasStableKeys) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const CmdResult r = run_rooflm("generate -m " + model() + " -p 'The three primary colors are' -n 8 --temp 0 -t 2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* key : {"\"text\"", "\"tokens\"", "\"n_prompt\"", "\"n_generated\"", "\"prefill_ms\"", "\"decode_ms\"",
                          "\"decode_tok_s\""})
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " missing in " << r.out;
  EXPECT_NE(r.out.find("\"n_generated\": 8"), std::string::npos) << r.out;
}

// build/rooflm_ab (bench/ab/ab_step.cpp): a short paired run under two settings and two node
// counts reports both sides and the per-op profile; --b-read pairs a step with a read of its
// bytes; bad settings and flags are clear errors.
TEST(CLI, PairedABHarness) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const std::string ab =
      (std::filesystem::path(rooflm::test::rooflm_binary()).parent_path() / "rooflm_ab").string();
  if (!std::filesystem::exists(ab)) GTEST_SKIP() << "rooflm_ab not built (ROOFLM_BUILD_BENCH=OFF)";
  auto sh = [&](const std::string& args) {
    const rooflm::test::CmdResult r = rooflm::test::run_shell(ab + " -m " + model() + " " + args);
    return std::make_pair(r.status, r.out);
  };
  auto [rc, out] = sh("--a pf_dist=2 --b pf_dist=3 --nodes 2 --nodes-b 3 --pairs 4 --warmup 1 --ctx-max 48 --profile");
  EXPECT_EQ(rc, 0) << out;
  for (const char* needle : {"A: 2-node forwards, pf_dist=2", "B: 3-node forwards, pf_dist=3", "B/A per pair: median",
                             "of 4 pairs", "up/gate/down", "lm_head"})
    EXPECT_NE(out.find(needle), std::string::npos) << needle << " in:\n" << out;
  auto [rc2, out2] = sh("--a pf_dist=2 --b bogus=1");
  EXPECT_EQ(rc2, 2) << out2;
  EXPECT_NE(out2.find("unknown setting 'bogus'"), std::string::npos) << out2;
  auto [rc3, out3] = sh("--a pf_dist=2 --b pf_dist=3 --pairs 0");
  EXPECT_EQ(rc3, 2) << out3;
  EXPECT_NE(out3.find("--pairs"), std::string::npos) << out3;
  auto [rc4, out4] = sh("--pairs 3");
  EXPECT_EQ(rc4, 2) << out4;
  EXPECT_NE(out4.find("differs"), std::string::npos) << out4;
  // --b-read: B is a read of the bytes A's matmuls read (SmolLM2-135M Q4_1: 97.6 MB a token)
  auto [rc5, out5] = sh("--b-read --pairs 4 --warmup 1 --ctx-max 48");
  EXPECT_EQ(rc5, 0) << out5;
  EXPECT_NE(out5.find("B: one read of 97.6 MB"), std::string::npos) << out5;
  EXPECT_NE(out5.find("B/A per pair: median"), std::string::npos) << out5;
  auto [rc6, out6] = sh("--b-read --b pf_dist=3");
  EXPECT_EQ(rc6, 2) << out6;
  EXPECT_NE(out6.find("--b-read: the B side is a memory read"), std::string::npos) << out6;
}

// --tune changes kernel settings for one run: never the tokens; bad settings name the flag.
TEST(CLI, TuneFlag) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  expect_error("generate -m " + model() + " -p hi --tune bogus=1", "--tune: kernel tuning: unknown setting 'bogus'");
  expect_error("generate -m " + model() + " -p hi --tune pf_dist=two", "--tune: kernel tuning: pf_dist: expected an integer");
  expect_error("bench -m " + model() + " --prompts /dev/null --tune pf_dist", "--tune: kernel tuning: expected name=value");
  auto tokens = [&](const std::string& extra) {
    const auto r = rooflm::test::run_rooflm("generate -m " + model() +
                                            " -p 'def fibonacci(n):' -n 24 --temp 0 -t 2 --json " + extra);
    EXPECT_EQ(r.status, 0) << r.out;
    const size_t b = r.out.find("\"tokens\"");
    return b == std::string::npos ? std::string("missing") : r.out.substr(b, r.out.find(']', b) - b);
  };
  const std::string plain = tokens("");
  EXPECT_NE(plain, "missing");
  EXPECT_EQ(plain, tokens("--tune pf_dist=0,attn_min_parallel_macs=0,matmul_min_parallel_bytes=0"));
  EXPECT_EQ(plain, tokens("--tune pf_dist=9 --spec chain"));
  // plain ran with the attention-overlapped weight prefetch (the default, 2 threads, short context)
  EXPECT_EQ(plain, tokens("--tune attn_overlap_prefetch=0"));
}

// rooflm features: one file of each kind with consistent shapes, and bad input refused before
// anything is written.
TEST(CLI, FeaturesWritesConsistentNpyFiles) {
  rooflm::test::TempDir t;
  const std::string tiny = rooflm::test::source_dir() + "/tests/fixtures/tiny_llama/tiny_llama.gguf";
  {
    std::ofstream(t.file("text.jsonl")) << "{\"text\": \"the cat sat on the mat. the dog sat on the log.\"}\n";
    std::ofstream(t.file("prompts.jsonl")) << "{\"prompt\": \"the cat\", \"chat\": false}\n";
    std::ofstream(t.file("bad.jsonl")) << "{\"txt\": 1}\n";
  }
  const CmdResult r = run_rooflm("features -m " + tiny + " --text " + t.file("text.jsonl") + " --prompts " +
                                 t.file("prompts.jsonl") + " --generate 5 --seq 8 --top-k 4 -t 1 --out " + t.file("f"));
  ASSERT_EQ(r.status, 0) << r.out;
  auto npy_header = [&](const std::string& name) {
    std::ifstream in(t.file("f/" + name), std::ios::binary);
    std::string h(128, '\0');
    in.read(h.data(), 128);
    return h;
  };
  const std::string tokens = npy_header("tokens.npy");
  ASSERT_EQ(tokens.substr(1, 5), "NUMPY");
  const size_t at = tokens.find("'shape': (") + 10;
  const long n = std::stol(tokens.substr(at));
  EXPECT_GT(n, 10);
  EXPECT_NE(npy_header("features.npy").find("(" + std::to_string(n) + ", 64)"), std::string::npos);
  EXPECT_NE(npy_header("topk_ids.npy").find("(" + std::to_string(n) + ", 4)"), std::string::npos);
  EXPECT_NE(npy_header("topk_probs.npy").find("'<f2'"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(t.file("f/starts.npy")));
  EXPECT_TRUE(std::filesystem::exists(t.file("f/meta.json")));
  EXPECT_FALSE(std::filesystem::exists(t.file("f.partial")));

  expect_error("features -m " + tiny + " --text " + t.file("text.jsonl") + " --out " + t.file("f"), "already exists");
  expect_error("features -m " + tiny + " --text " + t.file("bad.jsonl") + " --out " + t.file("g"), "string field 'text'");
  expect_error("features -m " + tiny + " --out " + t.file("g"), "--text or --prompts");
  expect_error("features -m " + tiny + " --text " + t.file("text.jsonl") + " --seq 1 --out " + t.file("g"), "--seq");
  EXPECT_FALSE(std::filesystem::exists(t.file("g")));
}
