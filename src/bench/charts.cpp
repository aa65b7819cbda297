#include "bench/charts.h"

#include <algorithm>
#include <map>

#include "roofline/report.h"
#include "roofline/util.h"

namespace rooflm::bench {

namespace {

using roofline::ChartPoint;
using roofline::ChartSpec;
using roofline::fmt_num;

const char* kPrefill = "prefill";

// Fixed colors for the known modes, so every bench chart reads the same way.
std::string mode_color(const std::string& mode, size_t index) {
  if (mode == "baseline") return "#555555";
  if (mode == "chain") return "#1f77b4";
  if (mode == "tree") return "#ff7f0e";
  if (mode == "staged") return "#d62728";
  if (mode == kPrefill) return "#2ca02c";
  return roofline::palette()[(index + 4) % roofline::palette().size()];
}

void add(Work& w, const prof::Aggregate& a) {
  w.flops += a.flops;
  w.bytes += a.bytes;
  w.kernel_s += (double)a.ns * 1e-9;
  w.calls += a.calls;
}

bool plottable(const Work& w, double time_s) { return w.flops > 0 && w.bytes > 0 && time_s > 0; }

ChartPoint point(const std::string& series, const std::string& phase, const std::string& op, const Work& w, double time_s,
                 const std::string& label) {
  ChartPoint p;
  p.series = series;
  p.kind = "measured";
  p.phase = phase;
  p.op = op;
  p.flops = w.flops;
  p.bytes = w.bytes;
  p.time_s = time_s;
  p.intensity = w.flops / w.bytes;
  p.perf = w.flops / time_s;
  p.label = label;
  return p;
}

// Op groups drawn on the per-op chart ("other", the element-wise ops, stays in the JSON).
const std::vector<prof::OpClass>& chart_ops() {
  static const std::vector<prof::OpClass> ops = {prof::OpClass::qkv, prof::OpClass::o, prof::OpClass::up_gate_down,
                                                 prof::OpClass::qk_pv, prof::OpClass::lm_head};
  return ops;
}

// Per op group: sums over the runs selected by `take` (mode and phase filter).
template <typename Pred>
std::map<std::string, Work> work_by_group(const std::vector<RunRecord>& runs, Pred take) {
  std::map<std::string, Work> out;
  for (const auto& r : runs)
    for (const auto& a : r.profile)
      if (take(r, a) && std::find(chart_ops().begin(), chart_ops().end(), a.op) != chart_ops().end())
        add(out[roofline::op_group(a.op, false)], a);
  return out;
}

std::vector<std::string> chart_groups() {
  std::vector<std::string> g;
  for (auto c : chart_ops())
    if (std::find(g.begin(), g.end(), roofline::op_group(c, false)) == g.end()) g.push_back(roofline::op_group(c, false));
  return g;
}

}  // namespace

Work decode_work(const std::vector<RunRecord>& runs, const std::string& mode) {
  Work w;
  for (const auto& r : runs) {
    if (r.mode != mode) continue;
    for (const auto& a : r.profile)
      if (a.phase != "init") add(w, a);
    w.wall_s += r.decode_ms / 1000.0;
    w.tokens += (int64_t)r.tokens.size();
  }
  return w;
}

Work prefill_work(const std::vector<RunRecord>& runs) {
  Work w;
  for (const auto& r : runs) {
    for (const auto& a : r.profile)
      if (a.phase == "init") add(w, a);
    w.wall_s += r.prefill_ms / 1000.0;
    w.tokens += r.n_prompt;
  }
  return w;
}

ChartSpec whole_model_chart(const std::vector<RunRecord>& runs, const std::vector<std::string>& modes) {
  ChartSpec c;
  for (size_t i = 0; i < modes.size(); i++) {
    const Work w = decode_work(runs, modes[i]);
    if (!plottable(w, w.wall_s)) continue;
    const double tok_s = (double)w.tokens / w.wall_s;
    c.points.push_back(point(modes[i], "decode", "model", w, w.wall_s,
                             modes[i] + " decode: " + fmt_num(tok_s) + " tok/s, " + fmt_num(w.flops / w.bytes) + " FLOP/B"));
    c.series_order.push_back(modes[i]);
    c.styles[modes[i]] = {mode_color(modes[i], i), "circle", true};
  }
  const Work p = prefill_work(runs);
  if (plottable(p, p.wall_s)) {
    const std::string s = "prefill (all modes)";
    c.points.push_back(point(s, "init", "model", p, p.wall_s,
                             "prefill: " + fmt_num((double)p.tokens / p.wall_s) + " tok/s, " + fmt_num(p.flops / p.bytes) +
                                 " FLOP/B"));
    c.series_order.push_back(s);
    c.styles[s] = {mode_color(kPrefill, 0), "square", true};
  }
  return c;
}

ChartSpec per_op_chart(const std::vector<RunRecord>& runs, const std::vector<std::string>& modes) {
  ChartSpec c;
  auto add_group_points = [&](const std::map<std::string, Work>& by_group, const std::string& who, const std::string& phase,
                              const std::string& color) {
    for (const auto& g : chart_groups()) {
      auto it = by_group.find(g);
      if (it == by_group.end() || !plottable(it->second, it->second.kernel_s)) continue;
      const std::string series = g + " " + who;
      c.points.push_back(point(series, phase, g, it->second, it->second.kernel_s,
                               series + " (" + std::to_string(it->second.calls) + " calls)"));
      c.series_order.push_back(series);
      c.styles[series] = {color, roofline::marker_for_group(g), true};
    }
  };
  for (size_t i = 0; i < modes.size(); i++)
    add_group_points(work_by_group(runs, [&](const RunRecord& r, const prof::Aggregate& a) {
                       return r.mode == modes[i] && a.phase != "init";
                     }),
                     modes[i], "decode", mode_color(modes[i], i));
  add_group_points(work_by_group(runs, [](const RunRecord&, const prof::Aggregate& a) { return a.phase == "init"; }),
                   kPrefill, "init", mode_color(kPrefill, 0));
  return c;
}

}  // namespace rooflm::bench
