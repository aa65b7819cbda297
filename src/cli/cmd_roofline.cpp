// `rooflm roofline`: roofline chart (SVG) + CSV/JSON of analytic per-op or whole-model points
// for a model on a hardware preset, optionally with measured points from a profile.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/util.h"
#include "core/error.h"
#include "roofline/probe.h"
#include "roofline/report.h"
#include "roofline/util.h"

namespace rooflm::cli {

namespace {

struct RooflineArgs {
  roofline::RooflineRequest req;
  std::string svg, csv, json;
  bool list = false;
  std::string accept = "1";
};

void print_presets() {
  std::cout << "hardware presets:\n";
  for (const auto& n : roofline::hardware_preset_names()) {
    if (n == "host") {
      std::cout << "  host           this machine, measured by `rooflm probe` (cache: " << roofline::probe_cache_path() << ")\n";
      continue;
    }
    roofline::HardwareSpec h = roofline::hardware_preset(n);
    std::printf("  %-14s %s: %s, %s %s (ridge %s FLOP/B)\n", n.c_str(), h.description.c_str(),
                roofline::fmt_bandwidth(h.memory().bytes_per_s).c_str(), h.primary().name.c_str(),
                roofline::fmt_flops(h.primary().ops_per_s).c_str(), roofline::fmt_num(h.ridge()).c_str());
  }
  std::cout << "model presets:\n";
  for (const auto& n : roofline::model_preset_names()) {
    roofline::ModelShape m = roofline::model_preset(n);
    std::printf("  %-14s %lld layers, d_model %lld, %lld heads (%lld KV), d_ff %lld, vocab %lld, %s params\n", n.c_str(),
                (long long)m.n_layer, (long long)m.d_model, (long long)m.n_head, (long long)m.n_kv_head, (long long)m.d_ff,
                (long long)m.vocab, roofline::si_label(m.n_params()).c_str());
  }
}

void run(const RooflineArgs& a) {
  if (a.list) {
    print_presets();
    return;
  }
  check_output(a.svg, "-o/--output");
  check_output(a.csv, "--csv");
  check_output(a.json, "--json");
  roofline::RooflineRequest req = a.req;
  req.accept = roofline::parse_si(a.accept, "--accept");
  roofline::RooflineResult r = roofline::build_roofline(req);
  // Render everything first, then write: a rendering error leaves no output behind.
  std::string svg = a.svg.empty() ? "" : roofline::render_svg(r.chart);
  std::string csv = a.csv.empty() ? "" : roofline::render_csv(r.chart);
  std::string json = a.json.empty() ? "" : roofline::render_json(r.chart);
  std::cout << r.table;
  if (!a.svg.empty()) roofline::write_file_atomic(a.svg, svg, "-o/--output");
  if (!a.csv.empty()) roofline::write_file_atomic(a.csv, csv, "--csv");
  if (!a.json.empty()) roofline::write_file_atomic(a.json, json, "--json");
  for (const auto& [path, what] : {std::pair{a.svg, "chart"}, std::pair{a.csv, "points CSV"}, std::pair{a.json, "points JSON"}})
    if (!path.empty()) std::cout << "wrote " << what << ": " << path << "\n";
  if (a.svg.empty() && a.csv.empty() && a.json.empty())
    std::cout << "(no output file requested: use -o chart.svg, --csv points.csv or --json points.json)\n";
}

}  // namespace

void register_roofline(CLI::App& app) {
  auto args = std::make_shared<RooflineArgs>();
  roofline::RooflineRequest& q = args->req;
  CLI::App* sub = app.add_subcommand(
      "roofline",
      "Roofline chart of a model on hardware: analytic per-op (or --whole-model) points for each phase x seq x batch, "
      "plus measured points from --profile");
  sub->add_option("--model,-m", q.model, "Model: preset (gpt2, gpt2-large, llama-33b, ...), .gguf file, config.json or dir");
  sub->add_option("--hw", q.hw, "Hardware: preset (rtx4090, a100-80gb-pcie, h100-sxm, host, ...) or a .json file");
  sub->add_option("--phases", q.phases, "Comma-separated phases: init, ar, draft, tree:N")->capture_default_str();
  sub->add_option("--seq", q.seq, "Comma-separated lengths: prompt length (init) or context length (ar/tree)")
      ->capture_default_str();
  sub->add_option("--batch", q.batch, "Comma-separated batch sizes")->capture_default_str();
  sub->add_option("--weights", q.weights, "Weight format: fp16, bf16, fp32, q8_0, q4_0, q4_1, q4_k, ... (default: model's, else fp16)");
  sub->add_option("--kv", q.kv, "KV-cache format")->capture_default_str();
  sub->add_option("--act", q.act, "Activation format")->capture_default_str();
  sub->add_option("--ops", q.ops, "Op classes to plot: qkv, o, up/gate/down, qk/pv, lm_head, other")->capture_default_str();
  sub->add_option("--compute", q.compute, "Compute roof used for predictions (name or format; default by weight format)");
  sub->add_option("--tree-kv", q.tree_kv, "tree:N K/V traffic: shared (tree attention reads the cache once) or per-candidate")
      ->capture_default_str();
  sub->add_option("--attention", q.attention, "qk/pv bytes: fused (scores stay on chip) or unfused (eager: scores through memory)")
      ->capture_default_str();
  sub->add_option("--labels", q.labels, "Series names: rooflm ('qkv/o init') or paper (Medusa's 'qkv mlp init')")
      ->capture_default_str();
  sub->add_option("--profile", q.profile, "Measured profile JSON (written by the profiler) to place on the roofs (--hw defaults to host)");
  sub->add_option("--ref-point", q.ref_points, "Extra reference point LABEL=INTENSITY:PERF, e.g. 'Baseline (paper)=1:200G' (repeatable)");
  sub->add_option("--accept", args->accept, "Tokens accepted per tree pass, for tree tokens/s")->capture_default_str();
  sub->add_option("--title", q.title, "Chart title (default generated)");
  sub->add_flag("--whole-model", q.whole_model, "One point per phase x seq x batch for the whole forward pass");
  sub->add_option("-o,--output", args->svg, "Write the chart as SVG");
  sub->add_option("--csv", args->csv, "Write the points as CSV");
  sub->add_option("--json", args->json, "Write the points (and roofs) as JSON");
  sub->add_flag("--list", args->list, "List hardware and model presets and exit");
  sub->callback([args] { run(*args); });
}

}  // namespace rooflm::cli
