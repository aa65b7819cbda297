// Quantized matmul kernels: block layouts vs the gguf package (fixtures), every path vs the
// scalar reference, bit-identity across paths / thread counts / batch sizes.
#include <gtest/gtest.h>

#include <atomic>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/fp16.h"
#include "core/threadpool.h"
#include "io/gguf.h"
#include "kernels/matmul.h"
#include "kernels/tuning.h"

using namespace rooflm;

namespace {

std::string source_dir() {
#ifdef ROOFLM_SOURCE_DIR
  return ROOFLM_SOURCE_DIR;
#else
  const char* e = std::getenv("ROOFLM_SOURCE_DIR");
  return e ? e : ".";
#endif
}

const DType kAllTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1,
                           DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};
const DType kQuantTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                             DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};
const KernelPath kFastPaths[] = {KernelPath::AVX2, KernelPath::AVX512, KernelPath::AMX};

bool is_quant(DType t) { return dtype_info(t).block_size > 1; }

struct Fixture {
  DType type;
  uint32_t n = 0;
  std::vector<uint8_t> raw;
  std::vector<float> deq;
};

Fixture load_fixture(DType t) {
  std::string name = dtype_name(t);
  for (auto& c : name) c = (char)std::tolower((unsigned char)c);
  const std::string path = source_dir() + "/tests/fixtures/quant_" + name + ".bin";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("missing fixture " + path + " (run scripts/make_quant_fixture.py)");
  char magic[8];
  uint32_t hdr[4];
  f.read(magic, 8);
  f.read(reinterpret_cast<char*>(hdr), sizeof(hdr));
  if (std::memcmp(magic, "RFLMQFX1", 8) != 0) throw Error("bad fixture magic in " + path);
  Fixture fx;
  fx.type = t;
  if (hdr[0] != (uint32_t)t) throw Error("fixture type mismatch in " + path);
  fx.n = hdr[1];
  fx.raw.resize(hdr[2]);
  fx.deq.resize(fx.n);
  f.read(reinterpret_cast<char*>(fx.raw.data()), fx.raw.size());
  f.read(reinterpret_cast<char*>(fx.deq.data()), 4 * fx.deq.size());
  if (!f) throw Error("truncated fixture " + path);
  return fx;
}

// Byte offsets of the fp16 scale fields in one block.
std::vector<int> fp16_fields(DType t) {
  switch (t) {
    case DType::Q8_0: case DType::Q4_0: case DType::Q5_0: return {0};
    case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K: return {0, 2};
    case DType::Q6_K: return {208};
    default: return {};
  }
}

uint16_t rand_half(std::mt19937& rng, float lo, float hi, bool allow_neg) {
  std::uniform_real_distribution<float> u(std::log(lo), std::log(hi));
  float v = std::exp(u(rng));
  if (allow_neg && (rng() & 3) == 0) v = -v;
  return fp32_to_fp16(v);
}

// Random weights: random code bits, realistic finite scales.
std::vector<uint8_t> random_weights(DType t, int64_t rows, int64_t cols, std::mt19937& rng) {
  const size_t rb = row_bytes(t, cols);
  std::vector<uint8_t> w(rb * (size_t)rows);
  if (t == DType::F32) {
    std::normal_distribution<float> nd(0.f, 0.05f);
    for (size_t i = 0; i < w.size() / 4; i++) {
      const float v = nd(rng);
      std::memcpy(&w[4 * i], &v, 4);
    }
    return w;
  }
  if (t == DType::F16 || t == DType::BF16) {
    std::normal_distribution<float> nd(0.f, 0.05f);
    for (size_t i = 0; i < w.size() / 2; i++) {
      const float v = nd(rng);
      const uint16_t h = t == DType::F16 ? fp32_to_fp16(v) : fp32_to_bf16(v);
      std::memcpy(&w[2 * i], &h, 2);
    }
    return w;
  }
  for (auto& b : w) b = (uint8_t)rng();
  const DTypeInfo& info = dtype_info(t);
  const auto fields = fp16_fields(t);
  for (size_t b = 0; b < w.size() / info.type_size; b++) {
    uint8_t* blk = &w[b * info.type_size];
    for (size_t f = 0; f < fields.size(); f++) {
      // d: positive-ish scale; second field (min / dmin) may be negative for Q4_1/Q5_1
      const bool neg = f == 1 && (t == DType::Q4_1 || t == DType::Q5_1);
      const uint16_t h = f == 0 ? rand_half(rng, 1e-3f, 2e-2f, true) : rand_half(rng, 1e-3f, 5e-2f, neg);
      std::memcpy(blk + fields[f], &h, 2);
    }
  }
  return w;
}

std::vector<float> random_acts(int64_t n_tok, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> x((size_t)(n_tok * cols));
  for (auto& v : x) v = nd(rng);
  // a few outliers, as real activations have
  for (int64_t i = 0; i < n_tok * cols / 97; i++) x[(size_t)(rng() % x.size())] *= 20.f;
  return x;
}

// Tolerances from int8 activation quantization. Per 32-value block, |x - dx q| <= amax/254, so
//  (1) |y - y_ref| <= sum_k (amax_k / 254) sum_{i in k} |w_i|              (tight, per element)
//  (2) |y - y_ref| <= ||w_r||_2 ||e||_2 <= ||w_r||_2 ||x_t||_2 sqrt(32)/254  (row norms: 2.2%)
// plus f32 accumulation error (1e-5 of sum |w_i x_i|). Float weights: accumulation error only.
struct Bounds {
  std::vector<double> elem;  // (1)
  std::vector<double> norm;  // ||w_r|| ||x_t||
};

Bounds error_bounds(const WeightMatrix& w, const float* x, int64_t n_tok) {
  std::vector<float> row((size_t)w.cols);
  Bounds b;
  b.elem.resize((size_t)(n_tok * w.rows));
  b.norm.resize(b.elem.size());
  const bool q = is_quant(w.type);
  for (int64_t r = 0; r < w.rows; r++) {
    dequantize_row_ref(w.type, w.data + (size_t)r * w.row_stride, row.data(), w.cols);
    double wn = 0;
    for (float v : row) wn += (double)v * v;
    for (int64_t t = 0; t < n_tok; t++) {
      const float* xt = x + t * w.cols;
      double qerr = 0, mag = 0, xn = 0;
      for (int64_t k = 0; k < w.cols; k += 32) {
        const int64_t e = std::min<int64_t>(w.cols, k + 32);
        double amax = 0, wabs = 0;
        for (int64_t c = k; c < e; c++) {
          amax = std::max(amax, (double)std::fabs(xt[c]));
          wabs += std::fabs(row[c]);
          mag += std::fabs((double)row[c] * xt[c]);
          xn += (double)xt[c] * xt[c];
        }
        qerr += amax / 254.0 * wabs;
      }
      b.elem[t * w.rows + r] = (q ? 1.001 * qerr : 0.0) + 1e-5 * mag + 1e-6;
      b.norm[t * w.rows + r] = std::sqrt(wn * xn);
    }
  }
  return b;
}

double g_max_rel_quant = 0, g_max_rel_float = 0;  // observed max |y - ref| / (||w_r|| ||x_t||)

struct Case {
  DType type;
  int64_t rows, cols, n_tok;
};

struct PathRun {
  KernelPath path;
  int threads;
  bool prepare;
};

// One random problem, its reference and bounds computed once, checked for every run.
void check_vs_ref(const Case& c, const std::vector<PathRun>& runs, uint32_t seed) {
  std::mt19937 rng(seed);
  auto wbytes = random_weights(c.type, c.rows, c.cols, rng);
  WeightMatrix plain = make_weight(c.type, c.rows, c.cols, wbytes.data());
  WeightMatrix packed = plain;
  prepare_weight(packed);
  auto x = random_acts(c.n_tok, c.cols, rng);
  std::vector<float> ref((size_t)(c.n_tok * c.rows));
  matmul_ref(plain, x.data(), c.n_tok, ref.data());
  const Bounds bd = error_bounds(plain, x.data(), c.n_tok);
  const bool q = is_quant(c.type);
  const double rel_tol = q ? 1.001 * std::sqrt(32.0) / 254.0 : 1e-5;
  for (const PathRun& run : runs) {
    if (!kernel_path_supported(run.path)) continue;
    std::vector<float> y(ref.size(), NAN);
    ThreadPool pool(run.threads);
    matmul(run.prepare ? packed : plain, x.data(), c.n_tok, y.data(), pool, run.path);
    int bad = 0;
    double max_rel = 0;
    for (size_t i = 0; i < y.size(); i++) {
      const double err = std::fabs((double)y[i] - ref[i]);
      const double rel = bd.norm[i] > 0 ? err / bd.norm[i] : err;
      max_rel = std::max(max_rel, rel);
      if (!(err <= bd.elem[i] && rel <= rel_tol + 1e-6) && bad++ < 5)
        ADD_FAILURE() << dtype_name(c.type) << " " << kernel_path_name(run.path) << " rows=" << c.rows
                      << " cols=" << c.cols << " n_tok=" << c.n_tok << " threads=" << run.threads
                      << " prepared=" << run.prepare << " at t=" << i / c.rows << " r=" << i % c.rows << ": y=" << y[i]
                      << " ref=" << ref[i] << " bound=" << bd.elem[i] << " rel=" << rel;
    }
    double& g = q ? g_max_rel_quant : g_max_rel_float;
    g = std::max(g, max_rel);
  }
}

void check_vs_ref(const Case& c, KernelPath path, int threads, bool prepare, uint32_t seed) {
  check_vs_ref(c, {{path, threads, prepare}}, seed);
}

}  // namespace

// ---------------------------------------------------------------- block layouts

TEST(Dequantize, RefMatchesGgufPackageBitExact) {
  for (DType t : kAllTypes) {
    const Fixture fx = load_fixture(t);
    ASSERT_EQ(fx.raw.size(), row_bytes(t, fx.n)) << dtype_name(t);
    std::vector<float> y(fx.n);
    dequantize_row_ref(t, fx.raw.data(), y.data(), fx.n);
    int bad = 0;
    for (uint32_t i = 0; i < fx.n; i++) {
      uint32_t a, b;
      std::memcpy(&a, &y[i], 4);
      std::memcpy(&b, &fx.deq[i], 4);
      if (a != b && bad++ < 5) ADD_FAILURE() << dtype_name(t) << " value " << i << ": " << y[i] << " != " << fx.deq[i];
    }
  }
}

TEST(Dequantize, FastPathsMatchRefBitExact) {
  std::mt19937 rng(7);
  for (KernelPath p : {KernelPath::Scalar, KernelPath::AVX2, KernelPath::AVX512, KernelPath::Auto}) {
    if (!kernel_path_supported(p)) continue;
    for (DType t : kAllTypes) {
      const Fixture fx = load_fixture(t);
      std::vector<float> y(fx.n);
      dequantize_row(t, fx.raw.data(), y.data(), fx.n, p);
      EXPECT_EQ(0, std::memcmp(y.data(), fx.deq.data(), 4 * y.size())) << dtype_name(t) << " " << kernel_path_name(p);
      // random rows too (all bit patterns of the code fields)
      const int64_t n = 768;
      auto raw = random_weights(t, 1, n, rng);
      std::vector<float> a(n), b(n);
      dequantize_row_ref(t, raw.data(), a.data(), n);
      dequantize_row(t, raw.data(), b.data(), n, p);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), 4 * n)) << dtype_name(t) << " " << kernel_path_name(p);
    }
  }
}

TEST(Dequantize, GetRowReadsThePackedCopyBitForBit) {
  std::mt19937 rng(3);
  for (DType t : kAllTypes) {
    // several 16-row groups and a partial last one; 512 columns = two K super-blocks
    const int64_t rows = 37, cols = 512;
    auto raw = random_weights(t, rows, cols, rng);
    const auto original = raw;
    WeightMatrix w = make_weight(t, rows, cols, raw.data());
    prepare_weight(w);
    const bool quantized = t != DType::F32 && t != DType::F16 && t != DType::BF16;
    ASSERT_EQ(quantized, w.packed != nullptr) << dtype_name(t);
    // The GGUF bytes are garbage from here on: get_row must read only the packed copy (the
    // model releases the mapped file's pages after packing). Float weights are not packed.
    if (quantized) std::fill(raw.begin(), raw.end(), 0xA5);
    std::vector<float> a(cols), b(cols);
    for (int64_t r = 0; r < rows; r++) {
      get_row(w, r, a.data());
      dequantize_row_ref(t, original.data() + r * w.row_stride, b.data(), cols);
      ASSERT_EQ(0, std::memcmp(a.data(), b.data(), 4 * cols)) << dtype_name(t) << " row " << r;
    }
    EXPECT_THROW(get_row(w, rows, a.data()), Error);
  }
}

TEST(Weights, MakeWeightChecksBlockSize) {
  std::vector<uint8_t> buf(1024);
  EXPECT_THROW(make_weight(DType::Q4_1, 2, 48, buf.data()), Error);
  EXPECT_THROW(make_weight(DType::Q4_K, 2, 128, buf.data()), Error);
  WeightMatrix w = make_weight(DType::Q8_0, 3, 64, buf.data());
  EXPECT_EQ(w.row_stride, 68u);
  EXPECT_EQ(w.nbytes(), 204u);
}

TEST(Weights, PrepareIsIdempotentAndSized) {
  std::mt19937 rng(11);
  for (DType t : kQuantTypes) {
    const int64_t rows = 33, cols = 512;
    auto raw = random_weights(t, rows, cols, rng);
    WeightMatrix w = make_weight(t, rows, cols, raw.data());
    prepare_weight(w);
    ASSERT_NE(w.packed, nullptr);
    const uint8_t* p = w.packed;
    prepare_weight(w);
    EXPECT_EQ(p, w.packed);
    EXPECT_EQ(w.packed_bytes % 64, 0u);
    // 3 groups of 16 rows (48 rows for 33): packed within a few % of 48 GGUF rows
    EXPECT_LE(w.packed_bytes, (size_t)(1.04 * 48 * w.row_stride) + 64) << dtype_name(t);
  }
  std::vector<uint8_t> f(64 * 4);
  WeightMatrix w = make_weight(DType::F32, 4, 16, f.data());
  prepare_weight(w);
  EXPECT_EQ(w.packed, nullptr);
}

TEST(Weights, PrepareWeightsPacksTiedOnceIntoOneArena) {
  std::mt19937 rng(12);
  auto ra = random_weights(DType::Q4_1, 40, 576, rng);
  auto rc = random_weights(DType::Q8_0, 300, 64, rng);
  std::vector<uint8_t> rf(4 * 8 * 16);
  WeightMatrix a = make_weight(DType::Q4_1, 40, 576, ra.data());
  WeightMatrix b = a;  // tied: same bytes listed twice
  WeightMatrix c = make_weight(DType::Q8_0, 300, 64, rc.data());
  WeightMatrix f = make_weight(DType::F32, 8, 16, rf.data());
  WeightMatrix* all[] = {&a, &b, &c, &f};
  prepare_weights(all, 4);
  ASSERT_NE(a.packed, nullptr);
  EXPECT_EQ(a.packed, b.packed);
  ASSERT_NE(c.packed, nullptr);
  EXPECT_EQ(a.owned.get(), c.owned.get());  // one arena
  EXPECT_EQ(f.packed, nullptr);
  // same bytes as packing each alone
  WeightMatrix a1 = make_weight(DType::Q4_1, 40, 576, ra.data()), c1 = make_weight(DType::Q8_0, 300, 64, rc.data());
  prepare_weight(a1);
  prepare_weight(c1);
  EXPECT_EQ(0, std::memcmp(a.packed, a1.packed, a1.packed_bytes));
  EXPECT_EQ(0, std::memcmp(c.packed, c1.packed, c1.packed_bytes));
}

// ---------------------------------------------------------------- matmul vs reference

TEST(Matmul, ScalarMatchesReference) {
  uint32_t seed = 100;
  for (DType t : kAllTypes) {
    const int64_t blk = is_quant(t) ? dtype_info(t).block_size : 32;
    for (int64_t cols : {blk, 3 * blk})
      for (int64_t rows : {1, 3, 17})
        for (int64_t n_tok : {1, 3, 7}) check_vs_ref({t, rows, cols, n_tok}, KernelPath::Scalar, 1, false, seed++);
  }
}

TEST(Matmul, FastPathsMatchReference) {
  for (KernelPath p : kFastPaths)
    if (!kernel_path_supported(p)) std::printf("  (path %s not supported here: skipped)\n", kernel_path_name(p));
  uint32_t seed = 1000;
  for (DType t : kAllTypes) {
    const int64_t blk = is_quant(t) ? dtype_info(t).block_size : 32;
    for (int64_t cols : {blk, 3 * blk})
      for (int64_t rows : {1, 3, 17})
        for (int64_t n_tok : {1, 2, 3, 7, 16, 33}) {
          std::vector<PathRun> runs;
          for (KernelPath p : kFastPaths) runs.push_back({p, 1 + (int)(seed % 3), seed % 2 == 0});
          check_vs_ref({t, rows, cols, n_tok}, runs, seed++);
        }
  }
  std::printf("  max |y - ref| / (||w_r|| ||x_t||): quantized %.2e (tolerance %.2e), float %.2e\n", g_max_rel_quant,
              std::sqrt(32.0) / 254.0, g_max_rel_float);
}

TEST(Matmul, AwkwardLargeShapesVsReference) {
  // rows not a multiple of 16 or of the thread split, many tokens, every path
  uint32_t seed = 5000;
  for (DType t : kAllTypes) {
    const int64_t cols = is_quant(t) && dtype_info(t).block_size == 256 ? 512 : 576;
    std::vector<PathRun> runs;
    for (KernelPath p : kFastPaths) runs.push_back({p, 3, true});
    check_vs_ref({t, 577, cols, 129}, runs, seed++);
  }
  // float weights with cols not a multiple of the vector width
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    std::vector<PathRun> runs;
    for (KernelPath p : kFastPaths) runs.push_back({p, 2, false});
    check_vs_ref({t, 19, 37, 5}, runs, seed++);
  }
}

// ---------------------------------------------------------------- bit identity

// Quantized types: every path, thread count, batch size and packed/unpacked weights give
// exactly the scalar path's numbers (the canonical computation in src/kernels/quant.h).
TEST(Matmul, QuantPathsBitIdentical) {
  std::mt19937 rng(77);
  for (DType t : kQuantTypes) {
    const int64_t blk = dtype_info(t).block_size;
    // 1..5 blocks exercise every prologue/tail of the AMX software pipeline
    const std::vector<int64_t> col_list = blk == 32 ? std::vector<int64_t>{32, 64, 96, 128, 160, 576}
                                                    : std::vector<int64_t>{blk, 3 * blk, 5 * blk};
    for (int64_t cols : col_list) {
      const int64_t rows = 577, max_tok = 129;
      auto raw = random_weights(t, rows, cols, rng);
      WeightMatrix plain = make_weight(t, rows, cols, raw.data());
      WeightMatrix packed = plain;
      prepare_weight(packed);
      auto x = random_acts(max_tok, cols, rng);
      std::vector<float> ys((size_t)(max_tok * rows));
      ThreadPool one(1);
      matmul(plain, x.data(), max_tok, ys.data(), one, KernelPath::Scalar);
      for (KernelPath p : kFastPaths) {
        if (!kernel_path_supported(p)) continue;
        for (int threads : {1, 2, 3}) {
          ThreadPool pool(threads);
          for (int64_t n_tok : {1, 2, 3, 7, 16, 25, 33, 64, 129}) {
            for (const WeightMatrix* w : {&packed, &plain}) {
              if (w == &plain && n_tok > 16 && threads != 2) continue;  // keep the test quick
              std::vector<float> y((size_t)(n_tok * rows), NAN);
              matmul(*w, x.data(), n_tok, y.data(), pool, p);
              const bool same = std::memcmp(y.data(), ys.data(), 4 * y.size()) == 0;
              EXPECT_TRUE(same) << dtype_name(t) << " cols=" << cols << " path=" << kernel_path_name(p)
                                << " threads=" << threads << " n_tok=" << n_tok << " packed=" << (w == &packed);
              if (!same) {
                for (size_t i = 0; i < y.size(); i++)
                  if (std::memcmp(&y[i], &ys[i], 4)) {
                    ADD_FAILURE() << "  first diff t=" << i / rows << " r=" << i % rows << " " << y[i] << " vs " << ys[i];
                    break;
                  }
              }
            }
          }
        }
      }
    }
  }
}

// Decode vs tree verification: token t of a batch equals the same token computed alone.
TEST(Matmul, BatchInvariantFloatWeights) {
  std::mt19937 rng(5);
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    const int64_t rows = 35, cols = 200, n_tok = 9;
    auto raw = random_weights(t, rows, cols, rng);
    WeightMatrix w = make_weight(t, rows, cols, raw.data());
    auto x = random_acts(n_tok, cols, rng);
    for (KernelPath p : {KernelPath::Scalar, KernelPath::AVX2, KernelPath::AVX512}) {
      if (!kernel_path_supported(p)) continue;
      ThreadPool pool(2);
      std::vector<float> all((size_t)(n_tok * rows)), one((size_t)rows);
      matmul(w, x.data(), n_tok, all.data(), pool, p);
      for (int64_t k = 0; k < n_tok; k++) {
        matmul(w, x.data() + k * cols, 1, one.data(), pool, p);
        EXPECT_EQ(0, std::memcmp(one.data(), all.data() + k * rows, 4 * rows)) << dtype_name(t) << " " << kernel_path_name(p);
      }
    }
  }
}

// Real weights (when the models are present under models/): for each (type, shape) of the
// GGUF, the first 40 rows vs the reference on every path, and bit-identical across paths.
TEST(Matmul, RealModelWeights) {
  int checked = 0;
  for (const char* name : {"SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"}) {
    const std::string path = source_dir() + "/models/" + name;
    if (!std::ifstream(path).good()) continue;
    GGUFFile file(path);
    std::vector<std::string> seen;
    std::mt19937 rng(21);
    for (const GGUFTensor& t : file.tensors()) {
      if (t.dims.size() != 2 || t.type == DType::F32) continue;
      const std::string key = std::string(dtype_name(t.type)) + "/" + std::to_string(t.cols());
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      seen.push_back(key);
      const int64_t rows = std::min<int64_t>(40, t.rows()), n_tok = 5;
      WeightMatrix w = make_weight(t.type, rows, t.cols(), t.data);
      WeightMatrix wp = w;
      prepare_weight(wp);
      auto x = random_acts(n_tok, t.cols(), rng);
      std::vector<float> ref((size_t)(n_tok * rows)), ys(ref.size());
      matmul_ref(w, x.data(), n_tok, ref.data());
      const Bounds bd = error_bounds(w, x.data(), n_tok);
      ThreadPool pool(2);
      matmul(w, x.data(), n_tok, ys.data(), pool, KernelPath::Scalar);
      for (KernelPath p : {KernelPath::Scalar, KernelPath::AVX2, KernelPath::AVX512, KernelPath::AMX}) {
        if (!kernel_path_supported(p)) continue;
        std::vector<float> y(ref.size(), NAN);
        matmul(wp, x.data(), n_tok, y.data(), pool, p);
        for (size_t i = 0; i < y.size(); i++) {
          ASSERT_LE(std::fabs((double)y[i] - ref[i]), bd.elem[i]) << name << " " << t.name << " " << kernel_path_name(p);
        }
        if (is_quant(t.type)) {
          EXPECT_EQ(0, std::memcmp(y.data(), ys.data(), 4 * y.size())) << name << " " << t.name << " " << kernel_path_name(p);
        }
      }
      checked++;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no model files under " << source_dir() << "/models";
  std::printf("  checked %d real (type, shape) combinations\n", checked);
}

TEST(Matmul, ZeroActivationsGiveZero) {
  std::mt19937 rng(9);
  for (DType t : kQuantTypes) {
    auto raw = random_weights(t, 20, 256, rng);
    WeightMatrix w = make_weight(t, 20, 256, raw.data());
    prepare_weight(w);
    std::vector<float> x(256 * 3, 0.f), y(60, NAN);
    ThreadPool pool(2);
    matmul(w, x.data(), 3, y.data(), pool);
    for (float v : y) EXPECT_EQ(v, 0.f) << dtype_name(t);
  }
}

TEST(Matmul, PathSelection) {
  EXPECT_TRUE(kernel_path_supported(KernelPath::Scalar));
  EXPECT_TRUE(kernel_path_supported(best_kernel_path()));
  std::printf("  best path on this CPU: %s (avx2=%d avx512=%d amx=%d)\n", kernel_path_name(best_kernel_path()),
              kernel_path_supported(KernelPath::AVX2), kernel_path_supported(KernelPath::AVX512),
              kernel_path_supported(KernelPath::AMX));
  std::vector<uint8_t> buf(64);
  WeightMatrix w = make_weight(DType::Q8_1, 1, 32, buf.data());
  std::vector<float> x(32), y(1);
  ThreadPool pool(1);
  EXPECT_THROW(matmul(w, x.data(), 1, y.data(), pool), Error);
}

// matmul_multi (q/k/v and gate/up in one dispatch) gives exactly the separate products,
// fused (same type and cols) or not (mixed types fall back to one call each).
TEST(Matmul, MultiEqualsSeparateCalls) {
  std::mt19937 rng(91);
  const int64_t cols = 576;
  struct M { DType t; int64_t rows; };
  const std::vector<std::vector<M>> sets = {
      {{DType::Q4_1, 576}, {DType::Q4_1, 192}, {DType::Q4_1, 192}},  // SmolLM2 q/k/v
      {{DType::Q4_1, 1536}, {DType::Q4_1, 1536}},                    // gate/up
      {{DType::Q5_0, 100}, {DType::Q8_0, 33}},                       // mixed: falls back
      {{DType::Q8_0, 17}},
  };
  for (const auto& set : sets) {
    std::vector<std::vector<uint8_t>> raw;
    std::vector<WeightMatrix> w;
    for (const M& m : set) {
      raw.push_back(random_weights(m.t, m.rows, cols, rng));
      w.push_back(make_weight(m.t, m.rows, cols, raw.back().data()));
      prepare_weight(w.back());
    }
    for (int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      for (int64_t n_tok : {1, 7, 16, 33}) {
        auto x = random_acts(n_tok, cols, rng);
        std::vector<std::vector<float>> want, got;
        std::vector<const WeightMatrix*> ws;
        std::vector<float*> ys;
        for (size_t m = 0; m < w.size(); m++) {
          want.emplace_back((size_t)(n_tok * w[m].rows));
          got.emplace_back((size_t)(n_tok * w[m].rows), NAN);
          matmul(w[m], x.data(), n_tok, want.back().data(), pool);
          ws.push_back(&w[m]);
        }
        for (auto& g : got) ys.push_back(g.data());
        matmul_multi(ws.data(), ys.data(), (int)ws.size(), x.data(), n_tok, pool);
        for (size_t m = 0; m < w.size(); m++)
          ASSERT_EQ(0, std::memcmp(want[m].data(), got[m].data(), 4 * want[m].size()))
              << "matrix " << m << " of " << w.size() << " threads=" << threads << " n_tok=" << n_tok;
      }
    }
  }
}

// The tunables change how work is scheduled and prefetched, never the numbers: every setting
// gives the same bits as the defaults (GEMV and GEMM, 1 and 2 threads, tiny and large matrices).
TEST(KernelTuning, ResultsDoNotDependOnTheSettings) {
  std::mt19937 rng(123);
  const KernelTuning defaults = kernel_tuning();
  const std::vector<std::string> settings = {"pf_dist=0", "pf_dist=1", "pf_dist=7", "pf_dist=1000",
                                             "pf_max_bytes=0", "pf_max_bytes=4096",
                                             "matmul_min_parallel_bytes=0",
                                             "matmul_min_parallel_bytes=1000000000",
                                             "amx_min_tokens=1", "amx_min_tokens=17",
                                             "amx_jit_max_tiles=0", "amx_jit_max_tiles=4",
                                             "amx_prefetch=0", "amx_prefetch=3"};
  for (DType t : {DType::Q4_1, DType::Q8_0, DType::Q4_K, DType::Q6_K}) {
    const int64_t cols = dtype_info(t).block_size == 32 ? 576 : 512;
    for (int64_t rows : {17, 300}) {
      auto raw = random_weights(t, rows, cols, rng);
      WeightMatrix w = make_weight(t, rows, cols, raw.data());
      prepare_weight(w);
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        for (int64_t n_tok : {1, 3, 16, 40}) {
          auto x = random_acts(n_tok, cols, rng);
          std::vector<float> want((size_t)(n_tok * rows)), got(want.size());
          kernel_tuning() = defaults;
          matmul(w, x.data(), n_tok, want.data(), pool);
          for (const std::string& s : settings) {
            kernel_tuning() = defaults;
            apply_kernel_tuning(kernel_tuning(), s);
            std::fill(got.begin(), got.end(), NAN);
            matmul(w, x.data(), n_tok, got.data(), pool);
            EXPECT_EQ(0, std::memcmp(want.data(), got.data(), 4 * want.size()))
                << dtype_name(t) << " rows=" << rows << " threads=" << threads << " n_tok=" << n_tok << " " << s;
          }
        }
      }
    }
  }
  kernel_tuning() = defaults;
}

// The weights a thread prefetches while it would wait (prefetch_weight_share) are the ones it
// reads in the matmul: the threads' shares of a fused list of matrices tile every matrix's
// packed bytes in order, without gaps or overlaps, the way the matmul splits its row groups.
TEST(WeightShare, SharesTileThePackedWeightsInOrder) {
  std::mt19937 rng(5);
  std::vector<std::vector<uint8_t>> raws;
  std::vector<WeightMatrix> ws;
  for (int64_t rows : {17, 300, 16}) {
    raws.push_back(random_weights(DType::Q4_1, rows, 576, rng));
    ws.push_back(make_weight(DType::Q4_1, rows, 576, raws.back().data()));
  }
  for (auto& w : ws) prepare_weight(w);
  if (!ws[0].packed) GTEST_SKIP() << "no packed layout on this CPU";
  const WeightMatrix* list[3] = {&ws[0], &ws[1], &ws[2]};
  for (int n : {1, 3})
    for (int threads : {1, 2, 3, 7}) {
      std::vector<const uint8_t*> next((size_t)n);
      for (int m = 0; m < n; m++) next[(size_t)m] = ws[(size_t)m].packed;
      for (int owner = 0; owner < threads; owner++) {
        ByteRange r[3];
        weight_share(list, n, owner, threads, r);
        for (int m = 0; m < n; m++) {
          if (r[m].n == 0) continue;
          EXPECT_EQ(r[m].p, next[(size_t)m]) << "matrix " << m << " owner " << owner << " of " << threads;
          next[(size_t)m] = r[m].p + r[m].n;
        }
      }
      for (int m = 0; m < n; m++)
        EXPECT_EQ(next[(size_t)m], ws[(size_t)m].packed + ws[(size_t)m].packed_bytes) << "matrix " << m << ", " << threads << " threads";
    }
  std::atomic<bool> stop{true};
  prefetch_weight_share(list, 3, 0, 2, stop);  // returns at once
}

TEST(KernelTuning, ParsesAssignmentsAndRejectsBadOnes) {
  KernelTuning t;
  apply_kernel_tuning(t, "pf_dist=5,attn_min_parallel_macs=0");
  EXPECT_EQ(5, t.pf_dist);
  EXPECT_EQ(0, t.attn_min_parallel_macs);
  EXPECT_EQ(5, get_kernel_tuning(t, "pf_dist"));
  apply_kernel_tuning(t, "");  // nothing to change
  EXPECT_EQ(5, t.pf_dist);
  for (const std::string& name : kernel_tuning_names()) {
    set_kernel_tuning(t, name, 3);
    EXPECT_EQ(3, get_kernel_tuning(t, name)) << name;
  }
  auto message = [&](const std::string& s) {
    try {
      apply_kernel_tuning(t, s);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("nope=1").find("unknown setting 'nope'"), std::string::npos) << message("nope=1");
  EXPECT_NE(message("pf_dist").find("expected name=value"), std::string::npos);
  EXPECT_NE(message("pf_dist=").find("expected name=value"), std::string::npos);
  EXPECT_NE(message("pf_dist=2x").find("expected an integer"), std::string::npos);
  EXPECT_NE(message("pf_dist=-1").find(">= 0"), std::string::npos);
  EXPECT_NE(message("pf_dist=99999999999999999999").find("expected an integer"), std::string::npos);
}

// Every token count up to two full 8-wide tiles plus each remainder width (1-7), so a
// remainder tile of the wrong width or a skipped token shows: bit-identical to the scalar path.
// Rows of 3 blocks, and of more blocks than the AMX unpack ring holds (it wraps).
TEST(Matmul, EveryTileRemainderBitIdentical) {
  std::mt19937 rng(2024);
  for (DType t : {DType::Q4_1, DType::Q4_K, DType::Q8_0})
  for (int64_t blocks : {3, 21}) {
    const int64_t cols = dtype_info(t).block_size == 32 ? 32 * blocks : 256 * ((blocks + 7) / 8), rows = 35,
                  max_tok = 23;
    auto raw = random_weights(t, rows, cols, rng);
    WeightMatrix w = make_weight(t, rows, cols, raw.data());
    prepare_weight(w);
    auto x = random_acts(max_tok, cols, rng);
    ThreadPool one(1);
    std::vector<float> want((size_t)(max_tok * rows));
    matmul(w, x.data(), max_tok, want.data(), one, KernelPath::Scalar);
    for (KernelPath p : kFastPaths) {
      if (!kernel_path_supported(p)) continue;
      for (int64_t n_tok = 1; n_tok <= max_tok; n_tok++) {
        std::vector<float> y((size_t)(n_tok * rows), NAN);
        matmul(w, x.data(), n_tok, y.data(), one, p);
        EXPECT_EQ(0, std::memcmp(y.data(), want.data(), 4 * y.size()))
            << dtype_name(t) << " cols=" << cols << " path=" << kernel_path_name(p) << " n_tok=" << n_tok;
      }
    }
  }
}
