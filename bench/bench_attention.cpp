// The attention kernel alone, SmolLM2-135M's shape (9 query heads on 3 KV heads of 64 dims,
// f16 KV cache), over n_past committed rows for a batch of n_tok nodes shaped as a binary tree
// (n_tok = 1 is a decode step). The KV cache of one layer is small enough to stay in L2, as a
// layer's is during a forward.
//   build/rooflm_bench --benchmark_filter=Attention/
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/fp16.h"
#include "core/threadpool.h"
#include "kernels/attention.h"

namespace {

void Attention(benchmark::State& state) {
  const int64_t n_past = state.range(0);
  const int n_tok = (int)state.range(1);
  const int threads = (int)state.range(2);
  const int n_head = 9, n_head_kv = 3, hd = 64, qd = n_head * hd, kvd = n_head_kv * hd;
  const int64_t rows = n_past + n_tok;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> q((size_t)(n_tok * qd)), out((size_t)(n_tok * qd));
  // K in key tiles (attention.h), V row-major
  std::vector<uint16_t> K((size_t)(rooflm::k_cache_rows(rows) * kvd)), V((size_t)(rows * kvd));
  for (auto& v : q) v = nd(rng);
  for (int64_t r = 0; r < rows; r++)
    for (int c = 0; c < kvd; c++) K[(size_t)rooflm::k_tile_offset(r, c, kvd)] = rooflm::fp32_to_fp16(nd(rng));
  for (auto& v : V) v = rooflm::fp32_to_fp16(nd(rng));
  // Binary tree: node i's parent is (i - 1) / 2; its visible list is its root path.
  std::vector<int32_t> pos((size_t)n_tok), vis, vb;
  for (int i = 0; i < n_tok; i++) {
    std::vector<int32_t> path;
    for (int j = i;; j = (j - 1) / 2) {
      path.insert(path.begin(), j);
      if (j == 0) break;
    }
    pos[(size_t)i] = (int32_t)(n_past + (int64_t)path.size() - 1);
    vb.push_back((int32_t)vis.size());
    vis.insert(vis.end(), path.begin(), path.end());
  }
  vb.push_back((int32_t)vis.size());
  rooflm::ThreadPool pool(threads);
  const int64_t stride = rooflm::attention_scratch_floats(rows, hd);
  std::vector<float> scratch((size_t)(threads * stride));
  rooflm::AttentionArgs a;
  a.q = q.data(); a.q_stride = qd;
  a.k_cache = K.data(); a.v_cache = V.data(); a.kv_f16 = true; a.kv_stride = kvd;
  a.n_head = n_head; a.n_head_kv = n_head_kv; a.head_dim = hd;
  a.n_past = n_past; a.n_tok = n_tok;
  a.positions = pos.data(); a.visible = vis.data(); a.visible_begin = vb.data();
  a.scale = 0.125f; a.out = out.data(); a.out_stride = qd;
  a.scratch = scratch.data(); a.scratch_stride = stride;
  for (auto _ : state) {
    rooflm::attention(a, pool);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["us_per_node"] =
      benchmark::Counter((double)n_tok * 1e-6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(Attention)
    ->ArgNames({"past", "nodes", "thr"})
    ->ArgsProduct({{32, 160, 1000}, {1, 2, 4, 8, 16, 64}, {1, 2}})
    ->UseRealTime();
