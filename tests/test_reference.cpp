// End-to-end logits against an independent NumPy reference (scripts/reference/, fixture
// format in tests/fixtures/README.md): SmolLM2 Q4_1 from its GGUF, and tiny random GPT-2
// and Llama models loaded both from Hugging Face directories and from GGUF.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <numeric>

#include <nlohmann/json.hpp>

#include "core/fp16.h"
#include "decode/sampler.h"
#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

using namespace rooflm;
using nlohmann::json;

namespace {

struct RefLogits {
  json header;
  std::vector<uint8_t> bin;

  explicit RefLogits(const std::string& json_path) {
    std::ifstream in(json_path);
    if (!in) throw std::runtime_error("cannot open " + json_path);
    header = json::parse(in);
    const std::string dir = json_path.substr(0, json_path.rfind('/') + 1);
    std::ifstream b(dir + header["bin"]["file"].get<std::string>(), std::ios::binary);
    bin.assign(std::istreambuf_iterator<char>(b), {});
    if (bin.size() != header["bin"]["size"].get<size_t>()) throw std::runtime_error("bin size mismatch");
  }
  // Row r of a 2-D array (or the whole 1-D array) as floats.
  std::vector<float> row(const std::string& name, int64_t r) const {
    const json& a = header["arrays"][name];
    const auto shape = a["shape"].get<std::vector<int64_t>>();
    const int64_t cols = shape.size() > 1 ? shape[1] : shape[0];
    const std::string dt = a["dtype"];
    const size_t esz = dt == "f16" ? 2 : 4;
    const uint8_t* p = bin.data() + a["offset"].get<size_t>() + (size_t)(r * cols) * esz;
    std::vector<float> out((size_t)cols);
    for (int64_t i = 0; i < cols; i++) {
      if (dt == "f16") {
        uint16_t h;
        std::memcpy(&h, p + i * 2, 2);
        out[(size_t)i] = fp16_to_fp32(h);
      } else if (dt == "f32") {
        std::memcpy(&out[(size_t)i], p + i * 4, 4);
      } else {
        int32_t v;
        std::memcpy(&v, p + i * 4, 4);
        out[(size_t)i] = (float)v;
      }
    }
    return out;
  }
};

std::vector<double> log_softmax(const float* x, int64_t n) {
  double mx = -1e300;
  for (int64_t i = 0; i < n; i++) mx = std::max(mx, (double)x[i]);
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += std::exp((double)x[i] - mx);
  const double lse = mx + std::log(s);
  std::vector<double> out((size_t)n);
  for (int64_t i = 0; i < n; i++) out[(size_t)i] = (double)x[i] - lse;
  return out;
}

double kl(const float* ref, const float* ours, int64_t n) {
  const auto lp = log_softmax(ref, n), lq = log_softmax(ours, n);
  double k = 0;
  for (int64_t i = 0; i < n; i++) k += std::exp(lp[(size_t)i]) * (lp[(size_t)i] - lq[(size_t)i]);
  return k;
}

// Runs each prompt of the fixture as one chain batch with all logits and hands every
// position's logits to `check(prompt, position, global_index, logits)`.
template <typename F>
void run_prompts(const Model& m, const RefLogits& ref, F check) {
  ThreadPool pool(2);
  for (const auto& p : ref.header["prompts"]) {
    const auto tokens = p["tokens"].get<std::vector<int32_t>>();
    SessionOptions so;
    so.n_ctx = (int64_t)tokens.size() + 1;
    so.max_logits = (int)tokens.size();
    Session s(m, so, pool);
    std::vector<int32_t> parents(tokens.size());
    std::iota(parents.begin(), parents.end(), -1);
    const float* logits = s.forward(tokens.data(), parents.data(), (int)tokens.size(), true);
    for (size_t pos = 0; pos < tokens.size(); pos++)
      check(p, (int64_t)pos, p["position_offset"].get<int64_t>() + (int64_t)pos, logits + pos * m.config().n_vocab);
  }
}

}  // namespace

TEST(Reference, SmolLM2LogitsMatchNumPyReference) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const RefLogits ref(test::source_dir() + "/tests/fixtures/ref_smollm2_logits.json");
  auto model = Model::load(test::default_model_path());
  const int64_t V = model->config().n_vocab;
  int agree = 0, total = 0, agree_clear = 0, clear = 0, rows = 0;
  double kl_sum = 0, kl_max = 0;
  run_prompts(*model, ref, [&](const json& p, int64_t pos, int64_t, const float* logits) {
    const int32_t want = p["argmax"][pos].get<int32_t>();
    const int32_t got = Sampler::argmax(logits, V);
    total++;
    agree += got == want;
    if (p["top1_margin"][pos].get<double>() >= 0.2) {
      clear++;
      agree_clear += got == want;
    }
    const auto lp = p["logits_positions"].get<std::vector<int64_t>>();
    for (size_t j = 0; j < lp.size(); j++)
      if (lp[j] == pos) {
        const auto r = ref.row("logits", p["logits_row_start"].get<int64_t>() + (int64_t)j);
        const double k = kl(r.data(), logits, V);
        kl_sum += k;
        kl_max = std::max(kl_max, k);
        rows++;
      }
  });
  const double top1 = (double)agree / total, top1_clear = (double)agree_clear / clear, kl_mean = kl_sum / rows;
  std::printf("SmolLM2 vs reference: top-1 %.1f%% of %d positions, %.1f%% of %d with margin >= 0.2; "
              "KL mean %.2e max %.2e over %d rows\n", 100 * top1, total, 100 * top1_clear, clear, kl_mean, kl_max, rows);
  // Near-tied positions (reference margin < 0.2) flip under 8-bit activation quantization,
  // as they do for llama.cpp; every clear position must agree.
  EXPECT_GE(top1_clear, 0.99);
  EXPECT_GE(top1, 0.95);
  EXPECT_LE(kl_mean, 0.01);
  EXPECT_LE(kl_max, 0.05);
}

namespace {

void check_tiny(const std::string& fixture_dir, const std::vector<std::string>& model_paths) {
  const RefLogits ref(test::source_dir() + "/" + fixture_dir + "/ref_logits.json");
  for (const auto& rel : model_paths) {
    SCOPED_TRACE(rel);
    auto model = Model::load(test::source_dir() + "/" + rel);
    const int64_t V = model->config().n_vocab;
    ASSERT_EQ(V, ref.header["vocab_size"].get<int64_t>());
    double worst = 0;
    int agree = 0, total = 0;
    run_prompts(*model, ref, [&](const json& p, int64_t pos, int64_t global, const float* logits) {
      const auto r = ref.row("logits", global);
      double scale = 0;
      for (float x : r) scale = std::max(scale, (double)std::fabs(x));
      for (int64_t i = 0; i < V; i++) worst = std::max(worst, std::fabs(logits[i] - r[(size_t)i]) / scale);
      agree += Sampler::argmax(logits, V) == p["argmax"][pos].get<int32_t>();
      total++;
    });
    std::printf("%s: max |ours - ref| / max|ref| = %.2e, top-1 %d/%d\n", rel.c_str(), worst, agree, total);
    EXPECT_LT(worst, 2e-2);  // f16/bf16 weights and 8-bit activation blocks in the fast kernels
    EXPECT_GE(agree, total - 1);
  }
}

}  // namespace

TEST(Reference, TinyGPT2FromHuggingFaceDirAndGGUF) {
  check_tiny("tests/fixtures/tiny_gpt2", {"tests/fixtures/tiny_gpt2/hf", "tests/fixtures/tiny_gpt2/tiny_gpt2.gguf"});
}

TEST(Reference, TinyLlamaFromHuggingFaceDirAndGGUF) {
  check_tiny("tests/fixtures/tiny_llama", {"tests/fixtures/tiny_llama/hf", "tests/fixtures/tiny_llama/tiny_llama.gguf"});
}

// qwen2 = llama + q/k/v biases + NeoX rope (GGUF Q/K are not permuted for qwen2).
TEST(Reference, TinyQwen2FromHuggingFaceDirAndGGUF) {
  check_tiny("tests/fixtures/tiny_qwen2", {"tests/fixtures/tiny_qwen2/hf", "tests/fixtures/tiny_qwen2/tiny_qwen2.gguf"});
}
