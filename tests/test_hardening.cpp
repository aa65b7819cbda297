// Limits checked before work starts, and the CLI's behaviour on hostile or odd input
// (docs/HARDENING.md lists every case): model files whose metadata claims absurd or
// inconsistent sizes, a KV cache larger than the machine's memory, a context that fills up
// during generation, invalid UTF-8 prompts, and output files that a failing run must leave
// untouched.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/threadpool.h"
#include "model/model.h"
#include "test_util.h"

using namespace rooflm;
using rooflm::test::GGUFBuilder;

namespace {

// A complete tiny llama GGUF (F32 weights, all zero; a byte-level vocabulary of five tokens).
// Each case changes one field of the metadata or of the tensors.
struct TinyModel {
  uint64_t n_layer = 1, n_embd = 8, n_ff = 16, n_head = 2, n_head_kv = 1, head_dim = 4, n_ctx = 64;
  uint64_t tensor_layers = 1;  // layers whose tensors are written
  uint64_t tensor_embd = 8;    // n_embd as the tensors have it
  uint64_t tensor_q = 8, tensor_kv = 4;  // rows of the q and k/v projections (heads x head_dim)
  uint64_t tensor_vocab = 5;   // rows of token_embd.weight
  int64_t vocab_meta = -1;     // llama.vocab_size (-1: not written)
  double rope_base = 10000.0;  // written as float64
};

void kv_u64(GGUFBuilder& g, const std::string& k, uint64_t v) {
  g.str(k);
  g.put<uint32_t>(10);
  g.put<uint64_t>(v);
}

void kv_strings(GGUFBuilder& g, const std::string& k, const std::vector<std::string>& v) {
  g.str(k);
  g.put<uint32_t>(9);
  g.put<uint32_t>(8);
  g.put<uint64_t>(v.size());
  for (const auto& s : v) g.str(s);
}

std::vector<uint8_t> tiny_llama_gguf(const TinyModel& m) {
  const uint64_t e = m.tensor_embd, q = m.tensor_q, kv = m.tensor_kv;
  std::vector<std::pair<std::string, std::vector<uint64_t>>> tensors = {{"token_embd.weight", {e, m.tensor_vocab}},
                                                                        {"output_norm.weight", {e}}};
  for (uint64_t il = 0; il < m.tensor_layers; il++) {
    const std::string p = "blk." + std::to_string(il) + ".";
    for (auto [name, dims] : std::vector<std::pair<std::string, std::vector<uint64_t>>>{
             {"attn_norm.weight", {e}}, {"attn_q.weight", {e, q}}, {"attn_k.weight", {e, kv}},
             {"attn_v.weight", {e, kv}}, {"attn_output.weight", {q, e}}, {"ffn_norm.weight", {e}},
             {"ffn_gate.weight", {e, m.n_ff}}, {"ffn_up.weight", {e, m.n_ff}}, {"ffn_down.weight", {m.n_ff, e}}})
      tensors.push_back({p + name, dims});
  }
  const std::vector<std::string> tokens = {"h", "i", "hi", "<|endoftext|>", "\xC4\xA0"};  // U+0120: the space

  GGUFBuilder g;
  g.header(3, tensors.size(), 16 + (m.vocab_meta >= 0));  // the metadata written below
  g.kv_str("general.architecture", "llama");
  kv_u64(g, "llama.block_count", m.n_layer);
  kv_u64(g, "llama.embedding_length", m.n_embd);
  kv_u64(g, "llama.feed_forward_length", m.n_ff);
  kv_u64(g, "llama.attention.head_count", m.n_head);
  kv_u64(g, "llama.attention.head_count_kv", m.n_head_kv);
  kv_u64(g, "llama.attention.key_length", m.head_dim);
  kv_u64(g, "llama.rope.dimension_count", m.head_dim);
  kv_u64(g, "llama.context_length", m.n_ctx);
  if (m.vocab_meta >= 0) kv_u64(g, "llama.vocab_size", (uint64_t)m.vocab_meta);
  g.str("llama.rope.freq_base");
  g.put<uint32_t>(12);
  g.put<double>(m.rope_base);
  g.kv_str("tokenizer.ggml.model", "gpt2");
  g.kv_str("tokenizer.ggml.pre", "gpt2");
  kv_strings(g, "tokenizer.ggml.tokens", tokens);
  kv_strings(g, "tokenizer.ggml.merges", {"h i"});
  kv_u64(g, "tokenizer.ggml.eos_token_id", 3);
  g.kv_str("tokenizer.chat_template", "chatml");
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const auto& [name, dims] : tensors) {
    uint64_t n = 4;
    for (uint64_t d : dims) n *= d;
    g.tensor_info(name, dims, 0, offset);
    sizes.push_back(n);
    offset += (n + 31) / 32 * 32;
  }
  g.align(32);
  for (uint64_t n : sizes) g.b.resize(g.b.size() + (n + 31) / 32 * 32, 0);
  return g.b;
}

std::string write_model(const TinyModel& m, const std::string& name) {
  const std::string p = test::temp_path(name);
  test::write_bytes(p, tiny_llama_gguf(m));
  return p;
}

// Model::load must refuse the file with an Error whose message holds `expect`.
void expect_load_error(const TinyModel& m, const std::string& expect) {
  const std::string p = write_model(m, "tiny.gguf");
  try {
    Model::load(p);
    ADD_FAILURE() << "expected an error containing '" << expect << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
  }
  std::remove(p.c_str());
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string model() { return test::default_model_path(); }

}  // namespace

TEST(Hardening, TinyModelLoads) {
  // The base of the cases below is itself a good model.
  const std::string p = write_model(TinyModel{}, "tiny_ok.gguf");
  auto m = Model::load(p);
  EXPECT_EQ(m->config().n_layer, 1);
  EXPECT_EQ(m->tokenizer().n_vocab(), 5);
  std::remove(p.c_str());
}

TEST(Hardening, AbsurdOrInconsistentModelMetadata) {
  TinyModel m;
  m.n_layer = 1000000;
  expect_load_error(m, "block_count (layers) = 1000000 is out of range");
  m = {};
  m.n_layer = 2;  // the file has the tensors of one layer
  expect_load_error(m, "required tensor 'blk.1.attn_norm.weight' is missing");
  m = {};
  m.n_embd = 1ull << 40;
  expect_load_error(m, "embedding_length = 1099511627776 is out of range");
  m = {};
  m.n_embd = 16;  // the tensors have rows of 8
  expect_load_error(m, "tensor 'token_embd.weight' has shape [8, 5], expected [16, 5]");
  m = {};
  m.vocab_meta = 1 << 22;  // the embedding has 5 rows
  expect_load_error(m, "tensor 'token_embd.weight' has shape [8, 5], expected [8, 4194304]");
  m = {};
  m.vocab_meta = 1ll << 40;
  expect_load_error(m, "vocabulary size = 1099511627776 is out of range");
  m = {};
  m.vocab_meta = 3;  // the tokenizer has 5 tokens
  m.tensor_vocab = 3;
  expect_load_error(m, "tokenizer has 5 tokens but the embedding only 3 rows");
  m = {};
  m.n_ctx = 1ull << 30;
  expect_load_error(m, "context_length = 1073741824 is out of range");
  m = {};
  m.n_head = 0;
  expect_load_error(m, "attention.head_count = 0 is out of range");
  m = {};
  m.n_head_kv = 3;  // does not divide 2 heads
  expect_load_error(m, "attention.head_count_kv = 3 is out of range");
  m = {};
  m.head_dim = 1 << 20;
  expect_load_error(m, "head dimension = 1048576 is out of range");
  m = {};
  m.rope_base = 1e300;  // beyond float
  expect_load_error(m, "llama.rope.freq_base' = 1e+300 is out of range");
  m = {};
  m.rope_base = -1;
  expect_load_error(m, "rope frequency base -1 must be a positive finite number");
}

TEST(Hardening, KvCacheLargerThanMemoryIsRefusedWithTheSizeNeeded) {
  // 32 KV heads of 128 dims, a 16M-token context: 2 x 16,777,216 x 4096 values = 256 GiB of
  // cache for one layer at 16 bits a value, from a 2 MB file. The CLI must refuse before
  // allocating it, saying how much it needed.
  TinyModel m;
  m.n_head = m.n_head_kv = 32;
  m.head_dim = 128;
  m.n_embd = m.tensor_embd = 32;
  m.tensor_q = m.tensor_kv = 4096;
  m.n_ctx = 1 << 24;
  const std::string p = write_model(m, "kv_huge.gguf");
  const auto r = test::run_rooflm("generate -m " + p + " -p hi -n 1 -c 16777216");
  EXPECT_EQ(r.status, 1) << r.out;
  const std::string head = "KV cache for a context of 16777216 tokens needs ";
  const size_t at = r.out.find(head);
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_GE(std::stoll(r.out.substr(at + head.size())), 262144) << r.out;  // MiB, at least 2 bytes a value
  EXPECT_NE(r.out.find(" MiB but only "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("use a smaller context (-c)"), std::string::npos) << r.out;
  // A context that fits runs.
  const auto ok = test::run_rooflm("generate -m " + p + " -p hi -n 1 -c 64 --temp 0");
  EXPECT_EQ(ok.status, 0) << ok.out;
  std::remove(p.c_str());
}

TEST(Hardening, ContextFullStopsGenerationWithAReason) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  // -c 12 holds the prompt and a few new tokens, far fewer than -n 64: generation stops when
  // the cache is full, says so, and still exits 0.
  auto r = test::run_rooflm("generate -m " + model() + " -p 'The three primary colors are' -n 64 -c 12 --temp 0 -t 2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"stop_reason\": \"context\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"n_ctx\": 12"), std::string::npos) << r.out;
  // The prompt is 5 tokens (no BOS for SmolLM2): positions 5..11 are generated and fed back,
  // and the token sampled from the last one is kept: 8 tokens.
  EXPECT_NE(r.out.find("\"n_generated\": 8"), std::string::npos) << r.out;
  r = test::run_rooflm("generate -m " + model() + " -p 'The three primary colors are' -n 64 -c 12 --temp 0 -t 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("stop: context"), std::string::npos) << r.out;
  // The same with speculative decoding.
  r = test::run_rooflm("generate -m " + model() +
                       " -p 'The three primary colors are' -n 64 -c 12 --temp 0 -t 2 --spec chain --draft-len 4 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"stop_reason\": \"context\""), std::string::npos) << r.out;
}

TEST(Hardening, InvalidUtf8PromptsEndToEnd) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  // tokenizer.h: invalid bytes are pieces of their own, encoded as their byte token (dropped
  // when SmolLM2's vocabulary has none, e.g. 0xFF). Never an error, and the JSON stays valid.
  const std::string f = test::temp_path("bad_utf8.txt");
  test::write_bytes(f, {'c', 'a', 'f', 0xC3, ' ', 0x80, 'x', 0xED, 0xA0, 0x80, ' ', 0xC0, 0xAF, 0xFF, '!'});
  auto r = test::run_rooflm("generate -m " + model() + " -f " + f + " -n 4 --temp 0 -t 2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"n_prompt\": "), std::string::npos) << r.out;
  r = test::run_rooflm("generate -m " + model() + " -f " + f + " -n 4 --temp 0 -t 2 --chat --json");
  ASSERT_EQ(r.status, 0) << r.out;
  // Only bytes SmolLM2 has no token for: the prompt encodes to nothing, a clear error.
  test::write_bytes(f, {0xFF, 0xFE, 0xF5});
  r = test::run_rooflm("generate -m " + model() + " -f " + f + " -n 4 --temp 0");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("the prompt encodes to no tokens"), std::string::npos) << r.out;
  std::remove(f.c_str());

  // A vocabulary with all 256 byte tokens (the tiny GPT-2 fixture) keeps every byte: the
  // prompt of 6 invalid bytes is 6 tokens.
  test::write_bytes(f, {0x80, 0xFF, 0xC3, 0xED, 0xA0, 0xF5});
  r = test::run_rooflm("generate -m " + test::source_dir() + "/tests/fixtures/tiny_gpt2/hf -f " + f +
                       " -n 2 --temp 0 -t 1 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"n_prompt\": 6"), std::string::npos) << r.out;
  std::remove(f.c_str());
}

TEST(Hardening, FailingRunsLeaveExistingOutputFilesUntouched) {
  namespace fs = std::filesystem;
  const fs::path dir = test::temp_path("outputs");
  fs::create_directories(dir);
  const std::string good = "a good output from an earlier run\n";
  auto put = [&](const std::string& name) {
    const std::string p = (dir / name).string();
    std::ofstream(p, std::ios::binary) << good;
    return p;
  };
  const std::string svg = put("chart.svg"), csv = put("points.csv"), json = put("points.json"), prof = put("prof.json");

  // roofline: an unknown hardware preset, and an error found only after the first output
  // path was accepted (the --json directory does not exist).
  auto r = test::run_rooflm("roofline --model llama-7b --hw no-such-gpu -o " + svg + " --csv " + csv);
  EXPECT_EQ(r.status, 1) << r.out;
  r = test::run_rooflm("roofline --model llama-7b --hw a100-80gb-pcie -o " + svg + " --csv " + csv + " --json " +
                       (dir / "missing" / "p.json").string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
  // generate: a bad argument and a bad model, each with --profile on an existing file.
  r = test::run_rooflm("generate -m " + model() + " -p hi -t 0 --profile " + prof);
  EXPECT_EQ(r.status, 1) << r.out;
  r = test::run_rooflm("generate -m /no/such.gguf -p hi --profile " + prof);
  EXPECT_EQ(r.status, 1) << r.out;

  for (const std::string& p : {svg, csv, json, prof}) EXPECT_EQ(read_all(p), good) << p << " was changed";
  // No temporary file left beside them.
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  EXPECT_EQ(n, 4u);

  // The write itself fails half-way: the file size limit (ulimit -f, in 512- or 1024-byte
  // blocks) is far below the chart's size, and SIGXFSZ is ignored so write() returns EFBIG.
  r = test::run_rooflm("roofline --model llama-7b --hw a100-80gb-pcie -o " + svg, "trap '' XFSZ; ulimit -f 2;");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("write failed"), std::string::npos) << r.out;
  EXPECT_EQ(read_all(svg), good);
  n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  EXPECT_EQ(n, 4u) << "the temporary file is removed";

  // A successful run replaces the file whole.
  r = test::run_rooflm("roofline --model llama-7b --hw a100-80gb-pcie -o " + svg);
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string chart = read_all(svg);
  EXPECT_EQ(chart.rfind("<svg", 0) == 0 || chart.rfind("<?xml", 0) == 0, true) << chart.substr(0, 80);
  EXPECT_NE(chart.find("</svg>"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Hardening, AbsurdThreadCountsAreRefused) {
  EXPECT_THROW(ThreadPool(ThreadPool::kMaxThreads + 1), Error);
  EXPECT_THROW(ThreadPool(-3), Error);
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  // 100,000 threads on a small machine would thrash for hours: refused before loading.
  const auto r = test::run_rooflm("generate -m " + model() + " -p hi -n 1 -t 100000");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("-t/--threads: expected 1..1024, got 100000"), std::string::npos) << r.out;
  // every subcommand applies the same check before any work (bench before loading its model)
  const auto b = test::run_rooflm("bench -m " + model() + " --prompts /nonexistent.jsonl -t 5000");
  EXPECT_EQ(b.status, 1) << b.out;
  EXPECT_NE(b.out.find("-t/--threads: expected 1..1024, got 5000"), std::string::npos) << b.out;
  const auto p = test::run_rooflm("probe --quick --no-save -t -2");
  EXPECT_EQ(p.status, 1) << p.out;
  EXPECT_NE(p.out.find("-t/--threads: expected 0 (all available) or 1..1024, got -2"), std::string::npos) << p.out;
}

TEST(Hardening, ThreadsTheSystemRefusesGiveAnErrorNotATerminate) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizer runtimes reserve terabytes of address space: ulimit -v would stop them";
#else
  // 1,000 threads need 8 GB of stacks; 1 GB of address space runs out part-way. The pool joins
  // the threads it started and reports the failure (destroying them unjoined would abort).
  const std::string p = write_model(TinyModel{}, "tiny_threads.gguf");
  const auto r = test::run_rooflm("generate -m " + p + " -p hi -n 1 -t 1000", "ulimit -v 1000000;");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("threads: the system started only "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("terminate called"), std::string::npos) << r.out;
  std::remove(p.c_str());
#endif
}

TEST(Hardening, BadProfilePathIsRefusedBeforeTheRun) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const auto r = test::run_rooflm("generate -m " + model() + " -p hi -n 1 --profile /no/such/dir/p.json");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("--profile '/no/such/dir/p.json': directory '/no/such/dir' does not exist"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("[rooflm] prompt"), std::string::npos) << "nothing was generated: " << r.out;
}
