// Matmul kernel benchmarks (Google Benchmark).
//
//   rooflm_bench --benchmark_filter='matmul/q4_1/576x576/'       one shape
//   rooflm_bench --benchmark_filter='tok:1/'                      all GEMVs
//
// Names: matmul/<type>/<rows>x<cols>/tok:<n_tok>/thr:<threads>/<path>/<hot|l3>
//   hot: one copy of the matrix, re-read every iteration (stays in L2 when small)
//   l3:  rotates over copies totalling ~64 MB, so every call streams its weights from L3
//        like a decode step does (the whole SmolLM2-135M Q4_1 model is ~100 MB)
// Counters: weight_GB/s = GGUF weight bytes (incl. scales) per second; GFLOP/s = 2 rows cols
// n_tok per second; s_per_tok = seconds per token; min_us / min_GB/s = the fastest single
// call (on a shared, loaded machine the mean mostly measures other people's processes).
// Also: prepare/<type>/<rows>x<cols> = repacking time (prepare_weight) per matrix;
// read/<KB>/thr:<n>/<hot|l3> = plain read bandwidth of the same footprint (the roof);
// model/<gguf>/tok:<n>/thr:<t> = every 2-D weight of a real model once (one decode step's
// weight traffic without attention), for GGUFs found in models/ (or ROOFLM_BENCH_MODELS).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/fp16.h"
#include "core/threadpool.h"
#include "io/gguf.h"
#include "kernels/matmul.h"

using namespace rooflm;

namespace {

std::vector<uint8_t> random_weights(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t rb = row_bytes(t, cols);
  std::vector<uint8_t> w(rb * (size_t)rows);
  for (auto& b : w) b = (uint8_t)rng();
  const DTypeInfo& info = dtype_info(t);
  std::vector<int> f16;
  switch (t) {
    case DType::Q8_0: case DType::Q4_0: case DType::Q5_0: f16 = {0}; break;
    case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K: f16 = {0, 2}; break;
    case DType::Q6_K: f16 = {208}; break;
    case DType::F16: {
      std::normal_distribution<float> nd(0.f, 0.05f);
      for (size_t i = 0; i < w.size() / 2; i++) {
        const uint16_t h = fp32_to_fp16(nd(rng));
        std::memcpy(&w[2 * i], &h, 2);
      }
      return w;
    }
    default: return w;
  }
  std::uniform_real_distribution<float> u(1e-3f, 2e-2f);
  for (size_t b = 0; b < w.size() / info.type_size; b++)
    for (int off : f16) {
      const uint16_t h = fp32_to_fp16(u(rng));
      std::memcpy(&w[b * info.type_size + off], &h, 2);
    }
  return w;
}

ThreadPool& pool_for(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<ThreadPool>(threads);
  return *p;
}

struct Mat {
  std::vector<std::vector<uint8_t>> raw;
  std::vector<WeightMatrix> w;
};

// Cached per (type, shape, copies): building and packing 64 MB is slow.
Mat& matrices(DType t, int64_t rows, int64_t cols, int copies) {
  static std::map<std::string, std::unique_ptr<Mat>> cache;
  const std::string key = std::string(dtype_name(t)) + "/" + std::to_string(rows) + "x" + std::to_string(cols) +
                          "/" + std::to_string(copies);
  auto& m = cache[key];
  if (!m) {
    m = std::make_unique<Mat>();
    for (int c = 0; c < copies; c++) {
      m->raw.push_back(random_weights(t, rows, cols, 1234 + c));
      m->w.push_back(make_weight(t, rows, cols, m->raw.back().data()));
      prepare_weight(m->w.back(), &pool_for(2));
    }
  }
  return *m;
}

void BM_matmul(benchmark::State& st, DType t, int64_t rows, int64_t cols, int64_t n_tok, int threads, KernelPath path,
               bool l3) {
  if (!kernel_path_supported(path)) {
    st.SkipWithError("path not supported on this CPU");
    return;
  }
  const size_t bytes = row_bytes(t, cols) * (size_t)rows;
  const int copies = l3 ? (int)std::max<size_t>(2, (64u << 20) / bytes) : 1;
  Mat& m = matrices(t, rows, cols, copies);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  std::vector<float> x((size_t)(n_tok * cols)), y((size_t)(n_tok * rows));
  for (auto& v : x) v = nd(rng);
  ThreadPool& pool = pool_for(threads);
  size_t i = 0;
  double best = 1e30;  // fastest single call: the least disturbed one on a shared machine
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    matmul(m.w[i], x.data(), n_tok, y.data(), pool, path);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    benchmark::DoNotOptimize(y.data());
    if (++i == m.w.size()) i = 0;
  }
  st.counters["min_us"] = best * 1e6;
  st.counters["min_GB/s"] = (double)bytes / best * 1e-9;
  st.counters["weight_GB/s"] = benchmark::Counter((double)bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * rows * cols * n_tok * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["s_per_tok"] = benchmark::Counter((double)n_tok, benchmark::Counter::kIsIterationInvariantRate |
                                                                    benchmark::Counter::kInvert);
}

void BM_prepare(benchmark::State& st, DType t, int64_t rows, int64_t cols) {
  auto raw = random_weights(t, rows, cols, 99);
  for (auto _ : st) {
    WeightMatrix w = make_weight(t, rows, cols, raw.data());
    prepare_weight(w);
    benchmark::DoNotOptimize(w.packed);
  }
  st.counters["GGUF_GB/s"] =
      benchmark::Counter((double)raw.size() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

struct Shape {
  int64_t rows, cols;
};

// ---- whole-model sweep: every 2-D weight of a GGUF once (one decode step's weight traffic,
// without attention/norms), at n_tok tokens. Uses ROOFLM_BENCH_MODELS (colon-separated paths)
// or models/SmolLM2-135M-Instruct.Q4_1.gguf and models/gemma-3-270m-q4_k_m.gguf if present.
struct ModelWeights {
  std::unique_ptr<GGUFFile> file;
  std::vector<WeightMatrix> w;
  size_t bytes = 0;
  double flop_per_tok = 0;
};

ModelWeights& model_weights(const std::string& path) {
  static std::map<std::string, std::unique_ptr<ModelWeights>> cache;
  auto& m = cache[path];
  if (!m) {
    m = std::make_unique<ModelWeights>();
    m->file = std::make_unique<GGUFFile>(path);
    for (const GGUFTensor& t : m->file->tensors()) {
      if (t.dims.size() != 2 || t.type == DType::F32) continue;
      m->w.push_back(make_weight(t.type, t.rows(), t.cols(), t.data));
      m->bytes += m->w.back().nbytes();
      m->flop_per_tok += 2.0 * (double)t.rows() * (double)t.cols();
    }
    std::vector<WeightMatrix*> ps;
    for (auto& w : m->w) ps.push_back(&w);
    prepare_weights(ps.data(), ps.size(), &pool_for(2));
  }
  return *m;
}

void BM_model(benchmark::State& st, std::string path, int64_t n_tok, int threads) {
  ModelWeights& m = model_weights(path);
  int64_t max_cols = 0, max_rows = 0;
  for (auto& w : m.w) {
    max_cols = std::max(max_cols, w.cols);
    max_rows = std::max(max_rows, w.rows);
  }
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  std::vector<float> x((size_t)(n_tok * max_cols)), y((size_t)(n_tok * max_rows));
  for (auto& v : x) v = nd(rng);
  ThreadPool& pool = pool_for(threads);
  double best = 1e30;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& w : m.w) matmul(w, x.data(), n_tok, y.data(), pool);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    benchmark::DoNotOptimize(y.data());
  }
  st.counters["min_ms"] = best * 1e3;
  st.counters["min_GB/s"] = (double)m.bytes / best * 1e-9;
  st.counters["weight_GB/s"] = benchmark::Counter((double)m.bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GFLOP/s"] = benchmark::Counter(m.flop_per_tok * n_tok * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["s_per_tok"] = benchmark::Counter((double)n_tok, benchmark::Counter::kIsIterationInvariantRate |
                                                                    benchmark::Counter::kInvert);
}

std::vector<std::string> model_paths() {
  std::vector<std::string> out;
  std::string list;
  if (const char* e = std::getenv("ROOFLM_BENCH_MODELS")) {
    list = e;
  } else {
    list = "models/SmolLM2-135M-Instruct.Q4_1.gguf:models/gemma-3-270m-q4_k_m.gguf";
  }
  size_t b = 0;
  while (b <= list.size()) {
    size_t e = list.find(':', b);
    if (e == std::string::npos) e = list.size();
    const std::string p = list.substr(b, e - b);
    if (!p.empty() && std::ifstream(p).good()) out.push_back(p);
    b = e + 1;
  }
  return out;
}

// Shared machines are noisy: with --benchmark_repetitions=N, "_min" is the least disturbed run.
double min_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }

// The roof to compare weight_GB/s with: plain AVX-512-width reads of the same footprint
// (hot: one buffer of `bytes`; l3: rotating over ~64 MB), split over the same thread count.
void BM_read(benchmark::State& st, size_t bytes, int threads, bool l3) {
  const int copies = l3 ? (int)std::max<size_t>(2, (64u << 20) / bytes) : 1;
  const size_t stride = (bytes + 4095) / 4096 * 4096;
  static std::vector<uint8_t> buf;
  if (buf.size() < stride * copies + 64) buf.assign(stride * copies + 64, 1);
  uint8_t* base = reinterpret_cast<uint8_t*>(((uintptr_t)buf.data() + 63) & ~(uintptr_t)63);
  ThreadPool& pool = pool_for(threads);
  size_t i = 0;
  std::vector<uint64_t> sink(threads * 8);
  double best = 1e30;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    const uint8_t* p = base + stride * i;
    pool.run_on_all([&](int t) {
      const size_t n = bytes / 64, b = n * t / threads, e = n * (t + 1) / threads;
      uint64_t acc = 0;
      for (size_t k = b; k < e; k++) {
        uint64_t v;
        std::memcpy(&v, p + 64 * k, 8);  // one touch per cache line: the line is fetched whole
        acc ^= v;
      }
      sink[t * 8] += acc;
    });
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (++i == (size_t)copies) i = 0;
  }
  st.counters["min_GB/s"] = (double)bytes / best * 1e-9;
  benchmark::DoNotOptimize(sink.data());
  st.counters["read_GB/s"] = benchmark::Counter((double)bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

int register_all() {
  // SmolLM2-135M: q/o 576x576, k/v 192x576, gate/up 1536x576, down 576x1536, lm_head 49152x576
  const Shape smol[] = {{576, 576}, {192, 576}, {1536, 576}, {576, 1536}, {49152, 576}};
  // gemma3-270m K-quant shapes (cols multiple of 256): o 640x1024, down 640x2048
  const Shape kshapes[] = {{576, 1536}, {640, 1024}, {640, 2048}};
  const int64_t toks[] = {1, 4, 16, 64, 128, 512};
  auto reg = [](DType t, Shape s, int64_t n, int thr, KernelPath p, bool l3) {
    const std::string name = std::string("matmul/") + dtype_name(t) + "/" + std::to_string(s.rows) + "x" +
                             std::to_string(s.cols) + "/tok:" + std::to_string(n) + "/thr:" + std::to_string(thr) +
                             "/" + kernel_path_name(p) + "/" + (l3 ? "l3" : "hot");
    auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_matmul, t, s.rows, s.cols, n, thr, p, l3);
    b->Unit(benchmark::kMicrosecond)->UseRealTime()->ComputeStatistics("min", min_of);
  };
  for (DType t : {DType::Q4_1, DType::Q8_0})
    for (Shape s : smol) {
      if (s.rows == 49152 && t == DType::Q4_1) continue;  // lm_head is Q8_0 in the default model
      for (int thr : {1, 2}) {
        reg(t, s, 1, thr, KernelPath::Auto, true);
        reg(t, s, 1, thr, KernelPath::Auto, false);
      }
      for (int64_t n : toks)
        for (int thr : {1, 2})
          if (n > 1) reg(t, s, n, thr, KernelPath::Auto, false);
      for (int64_t n : {16, 64}) reg(t, s, n, 1, KernelPath::AVX512, false);  // VNNI, for comparison
    }
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K})
    for (Shape s : kshapes) {
      for (int thr : {1, 2}) reg(t, s, 1, thr, KernelPath::Auto, true);
      for (int64_t n : toks) reg(t, s, n, 2, KernelPath::Auto, false);
    }
  for (DType t : {DType::Q4_0, DType::Q5_0, DType::Q5_1, DType::F16})
    for (Shape s : {Shape{576, 576}, Shape{1536, 576}}) {
      reg(t, s, 1, 2, KernelPath::Auto, true);
      reg(t, s, 64, 2, KernelPath::Auto, false);
    }
  // Llama 3.2 1B's q/o projection (2048x2048, 1.2 MB in Q4_0: hot in L2) at verify batch sizes,
  // one thread: the arithmetic side of the verify-cost bound, per kernel path.
  for (DType t : {DType::Q4_0, DType::Q4_K})
    for (int64_t n : {1, 2, 4, 8, 16, 32, 64})
      for (KernelPath p : {KernelPath::Auto, KernelPath::AVX512}) reg(t, Shape{2048, 2048}, n, 1, p, false);
  for (DType t : {DType::Q4_1, DType::Q8_0, DType::Q4_K}) {
    const Shape s = t == DType::Q4_K ? Shape{576, 1536} : Shape{1536, 576};
    benchmark::RegisterBenchmark((std::string("prepare/") + dtype_name(t) + "/" + std::to_string(s.rows) + "x" +
                                  std::to_string(s.cols)).c_str(),
                                 BM_prepare, t, s.rows, s.cols)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("prepare/q8_0/49152x576", BM_prepare, DType::Q8_0, 49152, 576)
      ->Unit(benchmark::kMillisecond);
  for (const std::string& path : model_paths()) {
    const std::string base = path.substr(path.find_last_of('/') + 1);
    for (int64_t n : {1, 16, 64})
      for (int thr : {1, 2}) {
        const std::string name = "model/" + base + "/tok:" + std::to_string(n) + "/thr:" + std::to_string(thr);
        benchmark::RegisterBenchmark(name.c_str(), BM_model, path, n, thr)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->ComputeStatistics("min", min_of);
      }
  }
  for (size_t kb : {207, 553, 30096})  // Q4_1 576x576, Q4_1 1536x576, Q8_0 49152x576
    for (int thr : {1, 2})
      for (bool l3 : {true, false}) {
        if (kb > 4096 && !l3) continue;
        const std::string name = "read/" + std::to_string(kb) + "KB/thr:" + std::to_string(thr) + (l3 ? "/l3" : "/hot");
        benchmark::RegisterBenchmark(name.c_str(), BM_read, kb * 1024, thr, l3)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime()
            ->ComputeStatistics("min", min_of);
      }
  return 0;
}

const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
