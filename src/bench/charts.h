// Roofline points of a benchmark, measured: everything the profiler recorded during the runs
// (every kernel call, so the work spent on rejected tree candidates and on draft models
// counts), summed per mode.
//
//   whole_model_chart   one point per mode for its decoding (all phases but "init"): total
//                       FLOPs / total bytes against total FLOPs / wall-clock decode time (so
//                       drafting, sampling and verification overheads slow the point down),
//                       plus one point for the prefill of all runs. The measured counterpart
//                       of the staged-speculation paper's baseline-vs-staged chart.
//   per_op_chart        one point per op group (qkv/o, up/gate/down, qk/pv, lm_head) and mode,
//                       decode phases, FLOPs / kernel time; plus each group's prefill.
//
// Bytes are the profiler's compulsory bytes (roofline/profiler.h).
#pragma once
#include <string>
#include <vector>

#include "bench/record.h"
#include "roofline/chart.h"

namespace rooflm::bench {

struct Work {
  double flops = 0, bytes = 0;
  double kernel_s = 0;  // time inside profiled kernels
  double wall_s = 0;    // wall-clock decode (or prefill) time of the runs
  uint64_t calls = 0;
  int64_t tokens = 0;   // generated (decode) or prompt (prefill) tokens
};

// Decoding work of one mode's runs (every phase except "init").
Work decode_work(const std::vector<RunRecord>& runs, const std::string& mode);
// Prefill ("init") work of all runs.
Work prefill_work(const std::vector<RunRecord>& runs);

// Charts without hardware (the caller sets hw, title and subtitle before rendering): points,
// legend order, and styles (one color per mode, prefill green; one marker per op group).
roofline::ChartSpec whole_model_chart(const std::vector<RunRecord>& runs, const std::vector<std::string>& modes);
roofline::ChartSpec per_op_chart(const std::vector<RunRecord>& runs, const std::vector<std::string>& modes);

}  // namespace rooflm::bench
