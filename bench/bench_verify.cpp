// Whole-model forward time against batch size on the default model: one decode step (N = 1)
// vs verifying N tree nodes in one pass (all logits, as speculative verification needs).
// The ratio time(N) / time(1) is what makes tree verification "nearly free" or not.
//   build/rooflm_bench --benchmark_filter=Verify --benchmark_repetitions=5
// With ROOFLM_VERIFY_PROFILE=1 each run also reports ms per forward for every op class
// (counters qkv_ms, o_ms, up/gate/down_ms, qk/pv_ms, lm_head_ms, other_ms), from the profiler
// over 5 extra forwards after the timed ones.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <numeric>

#include "model/model.h"
#include "model/session.h"
#include "roofline/profiler.h"

namespace {

const rooflm::Model* default_model() {
  static std::unique_ptr<rooflm::Model> m = [] {
    const char* dir = std::getenv("ROOFLM_SOURCE_DIR");
    const std::string path = std::string(dir ? dir : ".") + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
    return rooflm::Model::load(path);
  }();
  return m.get();
}

void Verify(benchmark::State& state) {
  const int n = (int)state.range(0);
  const int threads = (int)state.range(1);
  const rooflm::Model& m = *default_model();
  rooflm::ThreadPool pool(threads);
  rooflm::SessionOptions so;
  so.n_ctx = 512;
  so.max_logits = 128;
  rooflm::Session s(m, so, pool);
  std::vector<int32_t> prompt(32);
  for (int i = 0; i < 32; i++) prompt[(size_t)i] = 100 + 37 * i;
  s.prefill(prompt);
  // A tree of n nodes: a binary tree (node i's parent is (i - 1) / 2), like a token tree.
  std::vector<int32_t> tokens((size_t)n), parents((size_t)n);
  for (int i = 0; i < n; i++) {
    tokens[(size_t)i] = 500 + 11 * i;
    parents[(size_t)i] = i == 0 ? -1 : (i - 1) / 2;
  }
  for (auto _ : state) benchmark::DoNotOptimize(s.forward(tokens.data(), parents.data(), n, true));
  state.counters["tokens"] = n;
  if (std::getenv("ROOFLM_VERIFY_PROFILE")) {
    constexpr int kRuns = 5;
    namespace prof = rooflm::prof;
    prof::reset();
    prof::set_phase("verify");
    prof::enable(true);
    for (int r = 0; r < kRuns; r++) s.forward(tokens.data(), parents.data(), n, true);
    prof::enable(false);
    for (const prof::Aggregate& a : prof::snapshot())
      state.counters[std::string(prof::op_name(a.op)) + "_ms"] = (double)a.ns / 1e6 / kRuns;
  }
}

BENCHMARK(Verify)
    ->ArgsProduct({{1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.3);

}  // namespace
