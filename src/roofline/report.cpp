#include "roofline/report.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "roofline/profiler.h"
#include "roofline/util.h"

namespace rooflm::roofline {

namespace {

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// Colors by phase for charts with many series: ar grey, init blue, tree:N on a warm-to-cool
// ramp by N, draft teal.
std::string phase_color(const std::string& phase, const std::vector<std::string>& tree_phases) {
  static const std::vector<std::string> ramp = {"#f6a21e", "#ec6b2d", "#d62728", "#c2185b", "#9c27b0",
                                                "#6a3dc9", "#3949ab", "#1565c0", "#00838f", "#2e7d32"};
  if (phase == "ar") return "#555555";
  if (phase == "init") return "#1f77b4";
  if (phase == "draft") return "#17becf";
  auto it = std::find(tree_phases.begin(), tree_phases.end(), phase);
  if (it != tree_phases.end()) {
    size_t i = (size_t)(it - tree_phases.begin());
    size_t n = tree_phases.size();
    size_t idx = n <= 1 ? 2 : i * (ramp.size() - 1) / (n - 1);
    return ramp[std::min(idx, ramp.size() - 1)];
  }
  return "#8c564b";
}

struct RefPoint {
  std::string label;
  double x, y;
};

RefPoint parse_ref_point(const std::string& s) {
  size_t eq = s.rfind('=');
  size_t colon = eq == std::string::npos ? std::string::npos : s.find(':', eq);
  if (eq == std::string::npos || eq == 0 || colon == std::string::npos)
    fail("RooflineRequest::ref_points: expected LABEL=INTENSITY:PERF (e.g. 'Baseline (paper)=1:200G'), got '", s, "'");
  RefPoint r;
  r.label = s.substr(0, eq);
  r.x = parse_si(s.substr(eq + 1, colon - eq - 1), "RooflineRequest::ref_points '" + s + "' intensity");
  r.y = parse_si(s.substr(colon + 1), "RooflineRequest::ref_points '" + s + "' performance");
  return r;
}

std::string fmt_time(double s) {
  if (s >= 1) return fmt_num(s) + " s";
  if (s >= 1e-3) return fmt_num(s * 1e3) + " ms";
  return fmt_num(s * 1e6) + " us";
}

}  // namespace

std::string marker_for_group(const std::string& g) {
  if (g == "qkv/o" || g == "qkv mlp") return "circle";
  if (g == "up/gate/down") return "square";
  if (g == "qk/pv") return "triangle";
  if (g == "lm_head") return "diamond";
  return "star";
}

std::string op_group(prof::OpClass c, bool paper) {
  switch (c) {
    case prof::OpClass::qkv:
    case prof::OpClass::o: return paper ? "qkv mlp" : "qkv/o";
    default: return prof::op_name(c);
  }
}

RooflineResult build_roofline(const RooflineRequest& req) {
  RooflineResult res;
  ChartSpec& chart = res.chart;
  const bool have_model = !req.model.empty();
  const bool have_profile = !req.profile.empty();
  if (!have_model && !have_profile)
    fail("RooflineRequest::model: required (a preset: ", join(model_preset_names(), ", "),
         "; or a .gguf / config.json path), unless RooflineRequest::profile gives measured points");
  if (req.hw.empty() && !have_profile)
    fail("RooflineRequest::hw: required (a preset: ", join(hardware_preset_names(), ", "), "; or a hardware .json file)");
  if (req.labels != "rooflm" && req.labels != "paper")
    fail("RooflineRequest::labels: expected 'rooflm' or 'paper', got '", req.labels, "'");
  const bool paper = req.labels == "paper";
  if (req.tree_kv != "shared" && req.tree_kv != "per-candidate")
    fail("RooflineRequest::tree_kv: expected 'shared' or 'per-candidate', got '", req.tree_kv, "'");
  if (req.attention != "fused" && req.attention != "unfused")
    fail("RooflineRequest::attention: expected 'fused' or 'unfused', got '", req.attention, "'");
  if (!(req.accept >= 1)) fail("RooflineRequest::accept: expected tokens accepted per tree pass >= 1, got ", req.accept);

  // Parse everything before the (possibly slow) hardware/probe step.
  std::vector<Phase> phases = parse_phase_list(req.phases, "RooflineRequest::phases");
  std::vector<int64_t> seqs, batches;
  for (const auto& s : split_list(req.seq, "RooflineRequest::seq")) seqs.push_back(parse_positive_int(s, "RooflineRequest::seq"));
  for (const auto& b : split_list(req.batch, "RooflineRequest::batch")) batches.push_back(parse_positive_int(b, "RooflineRequest::batch"));
  std::vector<prof::OpClass> ops;
  for (const auto& o : split_list(req.ops, "RooflineRequest::ops")) {
    prof::OpClass c = prof::op_from_name(o, "RooflineRequest::ops");
    if (std::find(ops.begin(), ops.end(), c) == ops.end()) ops.push_back(c);
  }
  std::vector<RefPoint> refs;
  for (const auto& r : req.ref_points) refs.push_back(parse_ref_point(r));
  NumberFormat kv = number_format(req.kv, "RooflineRequest::kv");
  NumberFormat act = number_format(req.act, "RooflineRequest::act");

  ModelShape model;
  if (have_model) model = resolve_model(req.model, "RooflineRequest::model");
  std::string wname = !req.weights.empty() ? req.weights : (!model.native_format.empty() ? model.native_format : "fp16");
  NumberFormat weights = number_format(wname, "RooflineRequest::weights");
  std::vector<prof::Aggregate> measured;
  if (have_profile) measured = prof::parse_profile_json(read_file(req.profile, "RooflineRequest::profile"), req.profile);

  chart.hw = resolve_hardware(req.hw.empty() ? "host" : req.hw, "RooflineRequest::hw");
  const ComputeRoof& roof = select_compute(chart.hw, weights.name, req.compute, "RooflineRequest::compute");
  chart.ridge_compute = roof.name;
  const HardwareSpec& hw = chart.hw;

  // ---- analytic points
  std::vector<std::string> tree_names;
  for (const auto& p : phases)
    if (p.kind == PhaseKind::tree) tree_names.push_back(p.name());
  std::vector<std::string> order;
  std::ostringstream table;
  if (have_model) {
    table << model.name << " (" << fmt_num(model.n_params() / 1e9, 3) << "B params) on " << hw.name << ": " << roof.name << " "
          << fmt_flops(roof.ops_per_s) << ", " << hw.memory().name << " " << fmt_bandwidth(hw.memory().bytes_per_s)
          << " (ridge " << fmt_num(hw.ridge(roof)) << " FLOP/B)\n";
    table << "weights " << weights.name << " (" << fmt_num(weights.bytes_per_value) << " B/value), KV " << kv.name
          << ", activations " << act.name << (req.tree_kv == "per-candidate" ? ", tree K/V re-read per candidate" : "")
          << (req.attention == "unfused" ? ", attention scores through memory" : "")
          << "\n\n";
    char line[256];
    std::snprintf(line, sizeof line, "%-9s %6s %5s  %-13s %11s %11s %9s %10s %-8s %12s\n", "phase", "seq", "batch", "op",
                  "GFLOP", "MB", "FLOP/B", "time", "bound", "FLOP/s");
    table << line;
    bool many = phases.size() * seqs.size() * batches.size() > 6 && !req.whole_model;
    std::set<std::string> groups_seen;
    for (const auto& ph : phases) {
      for (int64_t S : seqs) {
        for (int64_t B : batches) {
          Workload w;
          w.phase = ph, w.seq = S, w.batch = B, w.weights = weights, w.kv = kv, w.act = act;
          w.tree_kv = req.tree_kv == "shared" ? TreeKv::shared : TreeKv::per_candidate;
          w.tokens_per_pass = req.accept;
          w.unfused_attention = req.attention == "unfused";
          ModelEstimate e = estimate(model, w, hw, roof);
          res.estimates.push_back(e);
          std::string cfg = std::string(ph.kind == PhaseKind::init ? "L=" : "S=") + std::to_string(S) + " B=" + std::to_string(B);
          for (const auto& o : e.ops) {
            if (!many || std::find(ops.begin(), ops.end(), o.op) != ops.end()) {
              std::snprintf(line, sizeof line, "%-9s %6lld %5lld  %-13s %11s %11s %9s %10s %-8s %12s\n", ph.name().c_str(),
                            (long long)S, (long long)B, prof::op_name(o.op), fmt_num(o.flops / 1e9).c_str(),
                            fmt_num(o.bytes() / 1e6).c_str(), fmt_num(o.intensity()).c_str(), fmt_time(o.time_s).c_str(),
                            o.compute_bound ? "compute" : "memory", si_label(o.perf()).c_str());
              if (!many) table << line;
            }
            if (req.whole_model || std::find(ops.begin(), ops.end(), o.op) == ops.end()) continue;
            ChartPoint p;
            std::string group = op_group(o.op, paper);
            p.series = group + " " + ph.name();
            p.intensity = o.intensity();
            p.perf = o.perf();
            p.label = std::string(prof::op_name(o.op)) + " " + ph.name() + " " + cfg;
            p.kind = "analytic", p.phase = ph.name(), p.op = prof::op_name(o.op), p.seq = S, p.batch = B;
            p.flops = o.flops, p.bytes = o.bytes(), p.time_s = o.time_s;
            chart.points.push_back(p);
          }
          std::snprintf(line, sizeof line, "%-9s %6lld %5lld  %-13s %11s %11s %9s %10s %-8s %12s  %s tok/s\n",
                        ph.name().c_str(), (long long)S, (long long)B, "= model", fmt_num(e.flops / 1e9).c_str(),
                        fmt_num(e.bytes / 1e6).c_str(), fmt_num(e.intensity()).c_str(), fmt_time(e.time_s).c_str(), "",
                        si_label(e.perf()).c_str(), fmt_num(e.tokens_per_s).c_str());
          table << line;
          if (req.whole_model) {
            ChartPoint p;
            p.series = ph.name() + " (analytic)";
            p.intensity = e.intensity();
            p.perf = e.perf();
            p.label = "whole model " + ph.name() + " " + cfg + ", " + fmt_num(e.tokens_per_s) + " tok/s";
            p.kind = "analytic", p.phase = ph.name(), p.op = "model", p.seq = S, p.batch = B;
            p.flops = e.flops, p.bytes = e.bytes, p.time_s = e.time_s;
            chart.points.push_back(p);
          }
        }
      }
    }
    if (many) table << "(per-op rows omitted for more than 6 configurations; see --csv/--json)\n";
    // Series order and styles.
    if (req.whole_model) {
      for (const auto& ph : phases) {
        std::string s = ph.name() + " (analytic)";
        order.push_back(s);
        chart.styles[s] = {phase_color(ph.name(), tree_names), ph.kind == PhaseKind::ar ? "circle" : "diamond"};
      }
    } else {
      std::vector<std::string> groups;
      for (auto c : ops) {
        std::string g = op_group(c, paper);
        if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
      }
      size_t n_series = groups.size() * phases.size();
      size_t i = 0;
      for (const auto& g : groups)
        for (const auto& ph : phases) {
          std::string s = g + " " + ph.name();
          order.push_back(s);
          std::string color = n_series <= palette().size() ? palette()[i % palette().size()] : phase_color(ph.name(), tree_names);
          chart.styles[s] = {color, marker_for_group(g)};
          i++;
        }
    }
  }

  // ---- measured points
  size_t skipped = 0;
  for (const auto& a : measured) {
    if (!(a.flops > 0) || !(a.bytes > 0) || a.ns == 0) {
      skipped++;
      continue;
    }
    std::string group = op_group(a.op, paper);
    ChartPoint p;
    p.series = "measured " + (req.whole_model ? std::string("") : group + " ") + a.phase;
    p.intensity = a.flops / a.bytes;
    p.perf = a.flops / (a.ns * 1e-9);
    p.label = std::string("measured ") + prof::op_name(a.op) + " " + a.phase + " (" + std::to_string(a.calls) + " calls)";
    p.kind = "measured", p.phase = a.phase, p.op = prof::op_name(a.op);
    p.flops = a.flops, p.bytes = a.bytes, p.time_s = a.ns * 1e-9;
    if (std::find(order.begin(), order.end(), p.series) == order.end()) {
      order.push_back(p.series);
      // Filled markers; same color and shape as the analytic series of the same op group and
      // phase when there is one, so each measured point pairs with its prediction.
      std::string twin = req.whole_model ? a.phase + " (analytic)" : group + " " + a.phase;
      SeriesStyle st{"", req.whole_model ? "circle" : marker_for_group(group), true};
      if (auto it = chart.styles.find(twin); it != chart.styles.end()) st.color = it->second.color, st.marker = it->second.marker;
      chart.styles[p.series] = st;
    }
    chart.points.push_back(p);
  }
  if (req.whole_model && !measured.empty()) {
    // Whole-model measured points: sum all op classes per phase.
    std::vector<ChartPoint> per_op;
    per_op.swap(chart.points);
    std::map<std::string, ChartPoint> sums;
    std::vector<std::string> phase_order;
    for (auto& p : per_op) {
      if (p.kind != "measured") {
        chart.points.push_back(p);
        continue;
      }
      auto [it, inserted] = sums.try_emplace(p.phase, p);
      if (inserted) {
        phase_order.push_back(p.phase);
        it->second.op = "model";
        it->second.label = "measured whole model " + p.phase;
      } else {
        it->second.flops += p.flops, it->second.bytes += p.bytes, it->second.time_s += p.time_s;
      }
    }
    for (const auto& ph : phase_order) {
      ChartPoint p = sums[ph];
      p.intensity = p.flops / p.bytes;
      p.perf = p.flops / p.time_s;
      chart.points.push_back(p);
    }
  }
  if (skipped) std::cerr << "rooflm: --profile: skipped " << skipped << " aggregate(s) with zero FLOPs, bytes or time\n";
  if (have_profile && measured.size() == skipped)
    fail("RooflineRequest::profile '", req.profile, "': no aggregate with positive FLOPs, bytes and time to plot");
  if (have_profile) {
    table << "\nmeasured (" << req.profile << "):\n";
    for (const auto& p : chart.points)
      if (p.kind == "measured")
        table << "  " << p.label << ": " << fmt_num(p.intensity) << " FLOP/B, " << fmt_flops(p.perf) << "\n";
  }

  // ---- reference points
  const std::vector<std::string> ref_colors = {"#000000", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
  for (size_t i = 0; i < refs.size(); i++) {
    ChartPoint p;
    p.series = refs[i].label;
    p.intensity = refs[i].x;
    p.perf = refs[i].y;
    p.label = refs[i].label;
    p.kind = "reference";
    chart.points.push_back(p);
    if (std::find(order.begin(), order.end(), p.series) == order.end()) {
      order.push_back(p.series);
      chart.styles[p.series] = {ref_colors[i % ref_colors.size()], "star"};
    }
  }
  if (chart.points.empty()) fail("RooflineRequest::ops: no points to plot (check RooflineRequest::ops and RooflineRequest::profile)");
  chart.series_order = order;

  // ---- titles
  std::string what = req.whole_model ? "whole model" : "per op";
  std::string kinds = have_model && have_profile ? "analytic + measured" : (have_model ? "analytic" : "measured");
  std::string subject = have_model ? model.name : "profile";
  chart.title = !req.title.empty() ? req.title : "Roofline: " + subject + " on " + hw.name + " (" + what + ", " + kinds + ")";
  std::vector<std::string> sub;
  if (have_model) {
    std::vector<std::string> ss, bs;
    for (auto s : seqs) ss.push_back(std::to_string(s));
    for (auto b : batches) bs.push_back(std::to_string(b));
    sub.push_back("weights " + weights.name + ", KV " + kv.name + ", act " + act.name);
    sub.push_back("seq " + join(ss, ",") + "; batch " + join(bs, ","));
    if (req.attention == "unfused") sub.push_back("unfused attention");
    if (req.tree_kv == "per-candidate") sub.push_back("tree K/V per candidate");
    if (!tree_names.empty()) sub.push_back("tree:N = one pass verifying N candidates");
    sub.push_back("predicted on " + roof.name + " + " + hw.memory().name);
  }
  if (have_profile) sub.push_back("measured: " + std::filesystem::path(req.profile).filename().string());
  chart.subtitle = join(sub, " | ");
  res.table = table.str();
  return res;
}

}  // namespace rooflm::roofline
