#include "bench/verify_curve.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "bench/report.h"
#include "bench/stats.h"
#include "core/error.h"
#include "kernels/matmul.h"
#include "model/session.h"
#include "roofline/util.h"

namespace rooflm::bench {

namespace {

using Clock = std::chrono::steady_clock;

// The 1-minute load average (/proc/loadavg), -1 where there is none: a busy machine's
// measurements are not its hardware's.
double load_average() {
  double v = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &v) != 1) v = -1;
    std::fclose(f);
  }
  return v;
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// The matrices one forward streams: every layer's, and the lm_head once (tied or not).
std::vector<const WeightMatrix*> streamed_matrices(const Model& m) {
  std::vector<const WeightMatrix*> out;
  for (const auto& L : m.weights().layers)
    for (const WeightMatrix* w : {&L.wqkv, &L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      if (w->data) out.push_back(w);
  out.push_back(&m.weights().output);
  return out;
}

double streamed_bytes(const WeightMatrix& w) { return (double)(w.packed ? w.packed_bytes : w.nbytes()); }

// Throughput of the matmul kernels on one thread for each n, times `threads` (ideal scaling: a
// bound). Two slices of `src` (~192 and ~384 KiB, hot in L2 after the first call) go through
// matmul(); the rate is the extra rows' MACs over the extra time, so what every call pays once
// (quantizing the activations, the dispatch) and that a full matrix spreads over all its rows is
// left out. Times are the fastest of repeated calls over >= 20 ms, the two slices alternating:
// a bound, as the probe's best repetition is. One thread, because on a shared machine a call
// that needs every thread of a pool at once rarely gets them.
KernelRate measure_rate(const WeightMatrix& src, const std::vector<int>& nodes, int threads) {
  ThreadPool pool(1);
  const int64_t fit = (int64_t)(((size_t)384 << 10) / std::max<size_t>(1, src.row_stride)) / 16 * 16;
  const int64_t rows = std::min<int64_t>(src.rows, std::max<int64_t>(32, fit));
  const int64_t half = std::max<int64_t>(16, rows / 2 / 16 * 16);
  std::vector<uint8_t> copy((size_t)rows * src.row_stride);
  std::memcpy(copy.data(), src.data, copy.size());
  WeightMatrix big = make_weight(src.type, rows, src.cols, copy.data());
  WeightMatrix small = make_weight(src.type, half, src.cols, copy.data());
  prepare_weight(big, &pool);
  prepare_weight(small, &pool);
  const int max_n = nodes.back();
  std::vector<float> x((size_t)max_n * (size_t)src.cols), y((size_t)max_n * (size_t)rows);
  uint32_t s = 12345;
  for (float& v : x) {
    s = s * 1664525u + 1013904223u;
    v = (float)((double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0);
  }
  KernelRate r;
  r.type = dtype_name(src.type);
  r.rows = rows;
  r.cols = src.cols;
  auto timed = [&](const WeightMatrix& w, int n) {
    const auto t1 = Clock::now();
    matmul(w, x.data(), n, y.data(), pool);
    return ms_since(t1);
  };
  for (int n : nodes) {
    for (int i = 0; i < 3; i++) timed(big, n), timed(small, n);
    double t_big = 1e300, t_small = 1e300;
    const auto t0 = Clock::now();
    for (int calls = 0; (calls < 20 || ms_since(t0) < 20) && calls < 5000; calls++) {
      t_big = std::min(t_big, timed(big, n));
      t_small = std::min(t_small, timed(small, n));
    }
    // Rows' MACs over the rows' time; the whole call's rate where the difference is lost in noise.
    const double extra = rows > half && t_big > t_small ? (t_big - t_small) / (double)(rows - half) : t_big / (double)rows;
    r.macs_per_s.push_back((double)src.cols * n * threads / (extra * 1e-3));
  }
  return r;
}

// The probe's read bandwidth for `bytes` of data: the first of L2, L3 whose capacity (all
// instances the probe's threads use) holds them, else DRAM.
void pick_roof(const roofline::ProbeResult& p, double bytes, VerifyCurve& c) {
  std::string level = "DRAM";
  const int threads = std::max(1, p.threads);
  for (int lv : {2, 3}) {
    auto it = std::find_if(p.caches.begin(), p.caches.end(),
                           [&](const roofline::CacheLevel& cl) { return cl.level == lv && cl.type != "Instruction"; });
    if (it == p.caches.end()) continue;
    const double capacity = (double)it->size_bytes * std::max(1, threads / std::max(1, it->shared_by));
    if (bytes <= capacity) {
      level = "L" + std::to_string(lv);
      break;
    }
  }
  auto bw = std::find_if(p.bandwidth.begin(), p.bandwidth.end(),
                         [&](const roofline::BandwidthMeasurement& b) { return b.level == level && b.bytes_per_s > 0; });
  if (bw == p.bandwidth.end()) {  // a probe without that level: its last (largest) one
    if (p.bandwidth.empty() || !(p.bandwidth.back().bytes_per_s > 0))
      fail("verify curve: the probe result has no read bandwidth (run rooflm probe)");
    bw = p.bandwidth.end() - 1;
  }
  c.roof_level = bw->level;
  c.roof_bytes_per_s = bw->bytes_per_s;
  c.roof_median_bytes_per_s = bw->median_bytes_per_s;
  c.roof_threads = p.threads;
}

}  // namespace

std::vector<int> parse_node_list(const std::string& list, int max_nodes, const std::string& flag) {
  std::vector<int> out;
  for (const std::string& item : roofline::split_list(list, flag)) {
    const int64_t n = roofline::parse_positive_int(item, flag);
    if (n > max_nodes)
      fail(flag, ": ", n, " nodes is more than one forward takes (expected 1..", max_nodes, ")");
    out.push_back((int)n);
  }
  out.push_back(1);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void compute_bounds(VerifyCurve& c) {
  for (size_t i = 0; i < c.points.size(); i++) {
    VerifyPoint& p = c.points[i];
    const double bytes = c.weight_bytes + c.kv_bytes_per_row * (double)(c.context + p.nodes);
    p.memory_ms = c.roof_bytes_per_s > 0 ? bytes / c.roof_bytes_per_s * 1e3 : 0;
    p.compute_ms = 0;
    for (const KernelRate& k : c.kernels)
      if (i < k.macs_per_s.size() && k.macs_per_s[i] > 0) p.compute_ms += k.macs_per_token * p.nodes / k.macs_per_s[i] * 1e3;
    p.bound_ms = std::max(p.memory_ms, p.compute_ms);
  }
  if (c.points.empty()) return;
  const VerifyPoint& one = c.points.front();
  for (VerifyPoint& p : c.points) {
    p.steps = one.ms > 0 ? p.ms / one.ms : 0;
    p.bound_steps = one.bound_ms > 0 ? p.bound_ms / one.bound_ms : 0;
  }
}

VerifyCurve measure_verify_curve(const Model& model, ThreadPool& pool, const VerifyCurveOptions& opt,
                                 const roofline::ProbeResult& probe,
                                 const std::function<void(const std::string&)>& progress) {
  if (opt.nodes.empty() || opt.nodes.front() != 1) fail("VerifyCurveOptions::nodes: the node counts must include 1");
  const ModelConfig& cfg = model.config();
  const int max_n = opt.nodes.back();
  VerifyCurve c;
  c.model = model.path();
  c.model_name = cfg.name;
  c.synthetic = cfg.synthetic;
  c.cpu = probe.cpu_model;
  c.kernel_path = kernel_path_name(best_kernel_path());
  c.threads = pool.size();
  c.context = opt.context;

  SessionOptions so;
  so.n_ctx = opt.context + max_n;
  so.max_batch = std::max(max_n, 32);
  so.max_logits = max_n;
  Session s(model, so, pool);
  const int64_t vocab = std::max<int64_t>(1, std::min<int64_t>(cfg.n_vocab, model.tokenizer().n_vocab()));
  std::vector<int32_t> ctx((size_t)opt.context);
  for (size_t i = 0; i < ctx.size(); i++) ctx[i] = (int32_t)((1000 + 7919 * (int64_t)i) % vocab);
  if (!ctx.empty()) s.prefill(ctx);
  std::vector<int32_t> tokens((size_t)max_n), parents((size_t)max_n);
  for (int i = 0; i < max_n; i++) {
    tokens[(size_t)i] = (int32_t)((500 + 104729 * (int64_t)i) % vocab);
    parents[(size_t)i] = i - 1;  // a chain; node 0 follows the context
  }
  auto forward_ms = [&](int n) {
    const auto t0 = Clock::now();
    s.forward(tokens.data(), parents.data(), n, true);
    return ms_since(t0);
  };
  for (int n : opt.nodes) forward_ms(n);  // warm-up: pages, caches, the pool's threads
  c.load_before = load_average();

  std::vector<std::vector<double>> samples(opt.nodes.size());
  const auto start = Clock::now();
  for (int r = 0; r < opt.rounds; r++) {
    if (r >= 3 && ms_since(start) > opt.max_seconds * 1e3) break;
    for (size_t k = 0; k < opt.nodes.size(); k++) {
      const size_t i = (k + (size_t)r) % opt.nodes.size();
      samples[i].push_back(forward_ms(opt.nodes[i]));
    }
    c.rounds = r + 1;
    if (progress) progress("round " + std::to_string(r + 1) + "/" + std::to_string(opt.rounds) + ": one node " +
                           fmt("%.2f ms", samples[0].back()) + ", " + std::to_string(max_n) + " nodes " +
                           fmt("%.2f ms", samples.back().back()));
  }
  for (size_t i = 0; i < opt.nodes.size(); i++) {
    VerifyPoint p;
    p.nodes = opt.nodes[i];
    const Spread sp = spread_of(samples[i]);
    p.ms = sp.median;
    p.ms_q1 = sp.q1;
    p.ms_q3 = sp.q3;
    p.samples = (int)sp.n;
    c.points.push_back(p);
  }

  // Bytes and MACs of the forward's matrices; one kernel rate per weight type, timed on a slice
  // of the type's largest matrix (the FFN's, in most models).
  std::map<std::string, const WeightMatrix*> largest;
  std::map<std::string, double> macs;
  for (const WeightMatrix* w : streamed_matrices(model)) {
    c.weight_bytes += streamed_bytes(*w);
    const std::string type = dtype_name(w->type);
    const WeightMatrix*& l = largest[type];
    if (!l || w->rows * w->cols > l->rows * l->cols) l = w;
    macs[type] += (double)w->rows * (double)w->cols;
  }
  for (const auto& [type, w] : largest) {
    if (progress) progress("matmul throughput hot in cache: " + type + " (a slice of a " + std::to_string(w->rows) + "x" +
                           std::to_string(w->cols) + " matrix)");
    c.kernels.push_back(measure_rate(*w, opt.nodes, pool.size()));
    c.kernels.back().macs_per_token = macs[type];
  }
  c.load_after = load_average();
  c.kv_bytes_per_row = 2.0 * (double)cfg.n_layer * (double)cfg.kv_dim() * (double)dtype_info(s.kv_type()).type_size /
                       (double)dtype_info(s.kv_type()).block_size;
  pick_roof(probe, c.weight_bytes, c);
  compute_bounds(c);
  return c;
}

std::string format_verify_table(const VerifyCurve& c) {
  std::ostringstream o;
  o << "rooflm bench --verify-curve: " << std::filesystem::path(c.model).filename().string()
    << (c.synthetic ? " (synthetic)" : "") << " | forward of N nodes (a " << c.tree << ") after " << c.context
    << " tokens, all logits | " << count_of(c.threads, "thread") << " | median of " << count_of(c.rounds, "round")
    << (c.load_before >= 0 ? " | load average " + fmt("%.1f", c.load_before) + fmt(" -> %.1f", c.load_after) +
                                  " on " + std::to_string(std::thread::hardware_concurrency()) + " CPUs"
                            : "")
    << "\n";
  o << "bound = max(" << roofline::fmt_num(c.weight_bytes / 1e6) << " MB of weights + K/V / " << c.roof_level
    << " read roof " << roofline::fmt_bandwidth(c.roof_bytes_per_s) << " (probe, " << count_of(c.roof_threads, "thread")
    << "), N x MACs / matmul throughput hot in cache, " << c.kernel_path << " path)\n\n";
  char line[256];
  const char* head = "%6s %10s %21s %7s %10s %7s %9s %12s  %s\n";
  std::snprintf(line, sizeof line, head, "nodes", "ms", "[q1 - q3]", "steps", "bound ms", "bound", "ms/bound",
                "ms per node", "bound by");
  o << line;
  for (const VerifyPoint& p : c.points) {
    std::snprintf(line, sizeof line, head, std::to_string(p.nodes).c_str(), fmt("%.3f", p.ms).c_str(),
                  (fmt("[%.3f", p.ms_q1) + fmt(" - %.3f]", p.ms_q3)).c_str(), fmt("%.2f", p.steps).c_str(),
                  fmt("%.3f", p.bound_ms).c_str(), fmt("%.2f", p.bound_steps).c_str(),
                  p.bound_ms > 0 ? fmt("%.2f", p.ms / p.bound_ms).c_str() : "-", fmt("%.3f", p.ms / p.nodes).c_str(),
                  p.compute_ms > p.memory_ms ? "compute" : "memory");
    o << line;
  }
  o << "\nmatmul throughput hot in cache (GMAC/s at N tokens):\n";
  for (const KernelRate& k : c.kernels) {
    o << "  " << k.type << " " << k.rows << "x" << k.cols << ":";
    for (size_t i = 0; i < k.macs_per_s.size() && i < c.points.size(); i++)
      o << " N=" << c.points[i].nodes << " " << roofline::fmt_num(k.macs_per_s[i] / 1e9);
    o << "\n";
  }
  o << "(steps: ms / ms of one node; bound: bound ms / bound ms of one node; ms/bound: how far the forward is from "
       "its bound)\n";
  return o.str();
}

nlohmann::ordered_json verify_curve_json(const VerifyCurve& c) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["format"] = "rooflm-verify-curve";
  j["version"] = 1;
  j["config"] = {{"model", c.model}, {"model_name", c.model_name}, {"synthetic", c.synthetic},
                 {"cpu", c.cpu},     {"threads", c.threads},       {"context", c.context},
                 {"tree", c.tree},   {"rounds", c.rounds},         {"all_logits", true},
                 {"load_average_before", c.load_before}, {"load_average_after", c.load_after}};
  j["kernel_path"] = c.kernel_path;
  if (c.kernel_path == std::string(kernel_path_name(KernelPath::AMX))) j["amx_min_tokens"] = amx_min_tokens();
  j["roof"] = {{"level", c.roof_level},
               {"bytes_per_s", c.roof_bytes_per_s},
               {"median_bytes_per_s", c.roof_median_bytes_per_s},
               {"probe_threads", c.roof_threads},
               {"weight_bytes", c.weight_bytes},
               {"kv_bytes_per_position", c.kv_bytes_per_row}};
  j["kernels"] = ordered_json::array();
  for (const KernelRate& k : c.kernels) {
    ordered_json rates = ordered_json::array();
    for (size_t i = 0; i < k.macs_per_s.size() && i < c.points.size(); i++)
      rates.push_back({{"nodes", c.points[i].nodes}, {"macs_per_s", k.macs_per_s[i]}});
    j["kernels"].push_back({{"type", k.type}, {"rows", k.rows}, {"cols", k.cols},
                            {"macs_per_token", k.macs_per_token}, {"hot_cache_rate", rates}});
  }
  j["verify_curve"] = ordered_json::array();
  for (const VerifyPoint& p : c.points)
    j["verify_curve"].push_back({{"nodes", p.nodes}, {"ms", p.ms}, {"steps", p.steps}, {"bound_ms", p.bound_ms},
                                 {"bound_steps", p.bound_steps}, {"ms_q1", p.ms_q1}, {"ms_q3", p.ms_q3},
                                 {"memory_ms", p.memory_ms}, {"compute_ms", p.compute_ms}, {"samples", p.samples}});
  return j;
}

std::string verify_curve_svg(const VerifyCurve& c) {
  if (c.points.empty()) fail("verify-cost chart: no points to draw");
  const double W = 760, H = 500, left = 78, right = 170, top = 70, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  const double x_lo = std::log2((double)c.points.front().nodes), x_hi = std::log2((double)c.points.back().nodes);
  // Both series in units of the measured decode step, so the bound lies under the measurement
  // wherever it is a bound, and the gap between them is the table's ms/bound.
  const double one_ms = c.points.front().ms;
  auto bound_in_steps = [&](const VerifyPoint& p) { return one_ms > 0 ? p.bound_ms / one_ms : 0.0; };
  double y_max = 1, y_min = 1;
  for (const VerifyPoint& p : c.points) {
    y_max = std::max({y_max, p.steps, bound_in_steps(p)});
    y_min = std::min({y_min, p.steps, bound_in_steps(p)});
  }
  for (const VerifyPoint& p : c.points)
    if (!(p.steps > 0 && std::isfinite(p.steps)) || !(bound_in_steps(p) > 0 && std::isfinite(bound_in_steps(p))))
      fail("verify-cost chart: a point has no positive cost (nodes ", p.nodes, ")");
  const double y_lo = std::log10(y_min * 0.8), y_hi = std::log10(y_max * 1.3);
  auto X = [&](double n) { return left + (x_hi > x_lo ? (std::log2(n) - x_lo) / (x_hi - x_lo) : 0.5) * pw; };
  auto Y = [&](double s) { return top + ph - (std::log10(s) - y_lo) / (y_hi - y_lo) * ph; };
  auto f1 = [](double v) { return fmt("%.1f", v); };
  const std::string name = std::filesystem::path(c.model).filename().replace_extension().string();
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W << " "
    << H << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  o << "<rect x=\"0\" y=\"0\" width=\"" << W << "\" height=\"" << H << "\" fill=\"#ffffff\"/>\n";
  o << "<text x=\"" << W / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">"
    << roofline::xml_escape("Verify cost: " + name + (c.synthetic ? " (synthetic)" : "") + ", " +
                            count_of(c.threads, "thread"))
    << "</text>\n";
  o << "<text x=\"" << W / 2 << "\" y=\"44\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">"
    << roofline::xml_escape(c.cpu + "; forward of N nodes (a " + c.tree + ") after " + std::to_string(c.context) +
                            " tokens; " + c.kernel_path + " path" +
                            (c.load_after >= 0 ? fmt("; load average %.1f", c.load_after) : ""))
    << "</text>\n";
  o << "<text x=\"" << W / 2 << "\" y=\"59\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">"
    << roofline::xml_escape("bound = max(" + roofline::fmt_num(c.weight_bytes / 1e6) + " MB / " + c.roof_level +
                            " roof " + roofline::fmt_bandwidth(c.roof_bytes_per_s) +
                            ", N x MACs / hot-cache matmul throughput)")
    << "</text>\n";
  o << "<rect id=\"plot-area\" x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"#fcfcfc\" stroke=\"#333\" stroke-width=\"1\"/>\n";
  // Grid and ticks: x at every measured N, y at 1-2-5 steps.
  o << "<g class=\"grid\" stroke-width=\"0.6\" font-size=\"12\" fill=\"#222\">\n";
  for (const VerifyPoint& p : c.points) {
    const double x = X(p.nodes);
    o << "<line x1=\"" << f1(x) << "\" y1=\"" << top << "\" x2=\"" << f1(x) << "\" y2=\"" << top + ph
      << "\" stroke=\"#e6e6e6\"/>\n<text x=\"" << f1(x) << "\" y=\"" << top + ph + 18 << "\" text-anchor=\"middle\">"
      << p.nodes << "</text>\n";
  }
  for (double dec = 1e-3; dec <= 1e4; dec *= 10)
    for (double m : {1.0, 1.5, 2.0, 3.0, 5.0, 7.0}) {
      const double s = dec * m;
      if (std::log10(s) < y_lo || std::log10(s) > y_hi) continue;
      const double y = Y(s);
      o << "<line x1=\"" << left << "\" y1=\"" << f1(y) << "\" x2=\"" << left + pw << "\" y2=\"" << f1(y) << "\" stroke=\""
        << (std::fabs(s - 1) < 1e-9 ? "#999" : "#e6e6e6") << "\"/>\n<text x=\"" << left - 8 << "\" y=\"" << f1(y + 4)
        << "\" text-anchor=\"end\">" << roofline::fmt_num(s) << "</text>\n";
    }
  o << "</g>\n";
  o << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 16 << "\" text-anchor=\"middle\" font-size=\"13\">"
    << "Nodes verified in one forward (N)</text>\n";
  o << "<text transform=\"translate(" << 22 << " " << top + ph / 2
    << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">Time in measured decode steps (time / time of N = 1)</text>\n";
  struct Series {
    const char* name;
    const char* color;
    const char* dash;
    bool measured;
  };
  for (const Series& sr : {Series{"bound", "#555555", "6 4", false}, Series{"measured", "#d62728", "", true}}) {
    o << "<g class=\"series\" data-series=\"" << sr.name << "\">\n<polyline fill=\"none\" stroke=\"" << sr.color
      << "\" stroke-width=\"2\"" << (*sr.dash ? std::string(" stroke-dasharray=\"") + sr.dash + "\"" : "") << " points=\"";
    for (const VerifyPoint& p : c.points) o << f1(X(p.nodes)) << "," << f1(Y(sr.measured ? p.steps : bound_in_steps(p))) << " ";
    o << "\"/>\n";
    for (const VerifyPoint& p : c.points) {
      const double v = sr.measured ? p.steps : bound_in_steps(p);
      o << "<circle class=\"point\" cx=\"" << f1(X(p.nodes)) << "\" cy=\"" << f1(Y(v)) << "\" r=\"4\" fill=\""
        << (sr.measured ? sr.color : "#ffffff") << "\" stroke=\"" << sr.color << "\" stroke-width=\"1.5\"><title>N=" << p.nodes
        << ": " << fmt("%.2f", v) << " steps (" << fmt("%.3f", sr.measured ? p.ms : p.bound_ms) << " ms)</title></circle>\n";
      const bool last = &p == &c.points.back();  // its label left of the point, inside the plot
      if (sr.measured)
        o << "<text x=\"" << f1(X(p.nodes) + (last ? -7 : 6)) << "\" y=\"" << f1(Y(v) - 7) << "\" font-size=\"10\" fill=\""
          << sr.color << "\"" << (last ? " text-anchor=\"end\"" : "") << ">" << fmt("%.2f", v) << "</text>\n";
    }
    o << "</g>\n";
  }
  // Legend.
  const double lx = left + pw + 16;
  o << "<g class=\"legend\" font-size=\"11\">\n";
  o << "<line x1=\"" << lx << "\" y1=\"" << top + 10 << "\" x2=\"" << lx + 26 << "\" y2=\"" << top + 10
    << "\" stroke=\"#d62728\" stroke-width=\"2\"/><circle cx=\"" << lx + 13 << "\" cy=\"" << top + 10
    << "\" r=\"4\" fill=\"#d62728\"/><text x=\"" << lx + 32 << "\" y=\"" << top + 14 << "\">measured</text>\n";
  o << "<line x1=\"" << lx << "\" y1=\"" << top + 32 << "\" x2=\"" << lx + 26 << "\" y2=\"" << top + 32
    << "\" stroke=\"#555555\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/><circle cx=\"" << lx + 13 << "\" cy=\""
    << top + 32 << "\" r=\"4\" fill=\"#ffffff\" stroke=\"#555555\" stroke-width=\"1.5\"/><text x=\"" << lx + 32
    << "\" y=\"" << top + 36 << "\">bound</text>\n";
  o << "<text x=\"" << lx << "\" y=\"" << top + 62 << "\" fill=\"#444\">one decode step:</text>\n<text x=\"" << lx
    << "\" y=\"" << top + 77 << "\" fill=\"#444\">" << fmt("%.3f ms", c.points.front().ms) << " measured</text>\n<text x=\""
    << lx << "\" y=\"" << top + 92 << "\" fill=\"#444\">" << fmt("%.3f ms", c.points.front().bound_ms) << " bound</text>\n";
  o << "</g>\n</svg>\n";
  return o.str();
}

}  // namespace rooflm::bench
