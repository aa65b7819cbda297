// Per-mode statistics of a benchmark: the distribution of decode speed, speedup over the
// baseline, tokens per target step, acceptance by depth, greedy equality with the baseline,
// peak RSS. Pure functions of the run records (no timing here).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bench/record.h"

namespace rooflm::bench {

// Median and quantiles with linear interpolation between order statistics (NumPy's
// default), NaN for an empty input.
double median(std::vector<double> v);
double quantile(std::vector<double> v, double q);

struct Spread {
  size_t n = 0;
  double median = 0, min = 0, max = 0, q1 = 0, q3 = 0;  // all 0 when n == 0
};
Spread spread_of(const std::vector<double>& v);

// accepted[d] / offered[d] per depth (0 where nothing was offered).
std::vector<double> acceptance_by_depth(const std::vector<int64_t>& accepted, const std::vector<int64_t>& offered);

struct GreedyCheck {
  bool checked = false;
  std::string note;          // why not checked ("reference", "no baseline", "sampling"), or ""
  int compared = 0, equal = 0;
  std::vector<std::string> mismatched;  // prompt ids whose tokens differ from the baseline's
  bool failed() const { return checked && equal != compared; }
};

struct ModeSummary {
  std::string mode;
  std::string drafter;             // the first run's drafter ("" for plain decoding)
  size_t runs = 0;
  Spread tok_s;                    // per-prompt decode tok/s (runs that generated tokens)
  Spread speedup;                  // per-prompt tok/s ratio to the baseline; n == 0 without one
  int64_t tokens = 0, target_steps = 0, tree_nodes = 0;
  double tokens_per_step = 0;      // tokens / target_steps, all prompts together
  double nodes_per_step = 0;       // tree nodes a target forward ran, on average
  std::vector<int64_t> accepted_at, offered;  // summed over prompts
  std::vector<double> acceptance;  // acceptance_by_depth of the sums
  GreedyCheck greedy;
  double peak_rss_mb = 0;          // the largest of the runs' peaks
  double decode_s = 0, prefill_s = 0, draft_s = 0, verify_s = 0;  // wall time, summed
};

// One summary per mode, in `modes` order. `baseline` names the reference mode ("" = none);
// greedy: whether tokens must equal the baseline's (temperature 0).
std::vector<ModeSummary> summarize(const std::vector<RunRecord>& runs, const std::vector<std::string>& modes,
                                   const std::string& baseline, bool greedy);

}  // namespace rooflm::bench
