// `rooflm bench --verify-curve`: what a tree forward of N nodes costs, in milliseconds and in
// decode steps, against its bound on this machine.
//
// Measured: after a committed context of C tokens, a forward of N nodes shaped as a chain (node
// i's parent is node i - 1, as a drafted chain; a tree of N nodes has the same matmuls and
// less attention) with all N rows of logits, as verification needs.
// Every round runs one forward per N, the order rotating from round to round, so a busy
// machine's drifts hit every N alike; each N's time is the median over rounds.
//
// Bound: max(memory, compute), where
//   memory  = (the weight bytes a forward streams, lm_head included, + the K/V rows it reads)
//             / the probe's read bandwidth for data of that size (L2 or L3 when the bytes fit
//             the level's capacity, else DRAM; the best repetition: a bound);
//   compute = N x the MACs of one token's matmuls, per weight type, / that type's matmul
//             throughput at N tokens, measured hot in cache: slices of the type's largest
//             matrix (about 192 and 384 KiB, in L2) through the same matmul() the forward
//             calls, per-block combine included (not an instruction peak); the extra rows'
//             MACs over the extra time, so the once-per-call work a full matrix amortizes
//             (activation quantization, dispatch) is left out; on one thread times the thread
//             count; the fastest of repeated calls, as the probe's roofs are best repetitions.
// Attention and the element-wise ops are in the measured time, not in the bound.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/threadpool.h"
#include "model/model.h"
#include "roofline/probe.h"

namespace rooflm::bench {

struct VerifyCurveOptions {
  std::vector<int> nodes;     // from parse_node_list (sorted, distinct, includes 1)
  int64_t context = 128;      // committed tokens before every forward
  int rounds = 9;             // measured rounds
  double max_seconds = 120;   // ... but none begins after this much time once 3 are done
};

// Maximum node count of one verify forward (the Session's default maximum batch).
constexpr int kMaxVerifyNodes = 512;

// "1,2,4,8": positive integers up to max_nodes, errors naming `flag`. Returns them sorted and
// distinct, with 1 added when missing (the decode step every cost is measured in).
std::vector<int> parse_node_list(const std::string& list, int max_nodes, const std::string& flag);

// Hot-cache matmul throughput of one weight type (the kernel path the forward uses).
struct KernelRate {
  std::string type;                 // "Q4_0", ...
  int64_t rows = 0, cols = 0;       // the larger slice timed
  double macs_per_token = 0;        // MACs of one token over the forward's matrices of this type
  std::vector<double> macs_per_s;   // one per node count
};

struct VerifyPoint {
  int nodes = 0;
  double ms = 0, ms_q1 = 0, ms_q3 = 0;  // median and quartiles over rounds
  double steps = 0;                     // ms / ms of one node
  double memory_ms = 0, compute_ms = 0, bound_ms = 0;
  double bound_steps = 0;               // bound_ms / bound_ms of one node
  int samples = 0;
};

struct VerifyCurve {
  std::string model, model_name, cpu;
  bool synthetic = false;
  std::string kernel_path, tree = "chain";
  int threads = 0;
  int64_t context = 0;
  int rounds = 0;
  double load_before = -1, load_after = -1;  // 1-minute load average around the measurement
  double weight_bytes = 0;        // streamed per forward (packed layout, lm_head once)
  double kv_bytes_per_row = 0;    // K and V of one position, all layers
  std::string roof_level;         // "L2", "L3", "DRAM"
  double roof_bytes_per_s = 0, roof_median_bytes_per_s = 0;
  int roof_threads = 0;           // threads the probe measured with
  std::vector<KernelRate> kernels;
  std::vector<VerifyPoint> points;
};

// Runs the measurement. `probe` supplies the read roofs; `progress` gets one line per round.
VerifyCurve measure_verify_curve(const Model& model, ThreadPool& pool, const VerifyCurveOptions& opt,
                                 const roofline::ProbeResult& probe,
                                 const std::function<void(const std::string&)>& progress = {});

// Bound from measured parts (pure; exposed for tests): fills memory_ms, compute_ms, bound_ms and
// bound_steps of every point from the curve's bytes, roof and kernel rates.
void compute_bounds(VerifyCurve& c);

std::string format_verify_table(const VerifyCurve& c);
// {"format": "rooflm-verify-curve", "version": 1, "config", "kernel_path", "roof", "kernels",
//  "verify_curve": [{"nodes", "ms", "steps", "bound_ms", "bound_steps", ...}]}
nlohmann::ordered_json verify_curve_json(const VerifyCurve& c);
// Time against nodes (log-log), measured and bound, both in units of the measured decode step
// (ms / ms of N = 1): the bound lies under the measurement, the gap is ms/bound.
std::string verify_curve_svg(const VerifyCurve& c);

}  // namespace rooflm::bench
