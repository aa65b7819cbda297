// What `rooflm roofline` does, as a library call (the CLI only parses flags and writes files):
// resolves the model, hardware, phases and formats, runs the analytic model for every
// phase x seq x batch, loads measured profile points, and builds the chart and a text table.
#pragma once
#include <string>
#include <vector>

#include "roofline/chart.h"
#include "roofline/model.h"

namespace rooflm::roofline {

struct RooflineRequest {
  std::string model;                 // preset, .gguf, config.json or dir ("" only with profile)
  std::string hw;                    // preset or .json ("" = host when profile is set)
  std::string phases = "init,ar";    // init, ar, draft, tree:N
  std::string seq = "128,512,2048";  // prompt length (init) / context length (ar, tree, draft)
  std::string batch = "1";
  std::string weights;               // "" = model's native format (GGUF/config) or fp16
  std::string kv = "fp16";
  std::string act = "fp16";
  std::string ops = "qkv,o,up/gate/down,qk/pv";  // per-op mode: op classes to plot
  std::string compute;               // compute roof for predictions ("" = by weight format)
  std::string tree_kv = "shared";    // shared | per-candidate
  std::string attention = "fused";   // fused | unfused (scores/probabilities through memory)
  std::string labels = "rooflm";     // rooflm ("qkv/o init") | paper ("qkv mlp init", Medusa's)
  std::string profile;               // prof::write_json output to plot as measured points
  std::string title;                 // "" = generated
  std::vector<std::string> ref_points;  // "LABEL=INTENSITY:PERF", e.g. "paper baseline=1:200G"
  double accept = 1;                 // tokens accepted per tree pass (tokens/s of tree phases)
  bool whole_model = false;
};

struct RooflineResult {
  ChartSpec chart;
  std::string table;                   // human-readable estimates
  std::vector<ModelEstimate> estimates;  // one per phase x seq x batch (analytic)
};

// Throws rooflm::Error naming the flag and what was expected on any bad input.
RooflineResult build_roofline(const RooflineRequest& req);

// Series group of an op class in per-op charts: qkv and o share "qkv/o" ("qkv mlp" with
// paper labels), the others use their op class name.
std::string op_group(prof::OpClass c, bool paper_labels);
// Marker of an op group in per-op charts: qkv/o circle, up/gate/down square, qk/pv triangle,
// lm_head diamond, anything else star.
std::string marker_for_group(const std::string& group);

}  // namespace rooflm::roofline
