// What `rooflm bench` prints and writes: the per-mode table (text) and the JSON document
// with the configuration, the summaries, the roofline points and every run.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/charts.h"
#include "bench/record.h"
#include "bench/runner.h"
#include "bench/stats.h"

namespace rooflm::bench {

struct BenchInfo {
  std::string model, model_name, draft, prompts_file, hardware;
  size_t n_prompts = 0;
  bool chat = false;
  bool synthetic = false;  // the model has random weights (GGUF general.synthetic)
  int64_t n_predict = 0;
  double temp = 0;
  uint64_t seed = 0;
  int threads = 0, warmup = 0;
};

// The table, one row per mode, then one FAILURE line per mode whose greedy tokens differ
// from the baseline's.
std::string format_table(const BenchInfo& info, const std::vector<ModeSummary>& modes,
                         const std::vector<RunRecord>& runs);

// Whole document: {"format": "rooflm-bench", "version": 1, "config", "modes", "prefill",
// "charts": {"whole_model", "per_op"}, "prompts", "runs", "failures"}.
nlohmann::ordered_json bench_json(const BenchInfo& info, const std::vector<ModeSummary>& modes,
                                  const std::vector<RunRecord>& runs, const std::vector<PreparedPrompt>& prompts,
                                  const roofline::ChartSpec& whole_model, const roofline::ChartSpec& per_op);

// "1 thread", "2 threads": counts in headlines and chart subtitles.
std::string count_of(int64_t n, const std::string& noun);

// "chain: 2 of 8 prompts differ from baseline (HumanEval/3, mt_bench/81)", one per failing mode.
std::vector<std::string> greedy_failures(const std::vector<ModeSummary>& modes);

}  // namespace rooflm::bench
