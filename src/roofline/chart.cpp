#include "roofline/chart.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "roofline/util.h"

namespace rooflm::roofline {

namespace {

// Layout (pixels).
constexpr double kPlotW = 660, kPlotH = 470;
constexpr double kLeft = 84, kTop = 74, kBottom = 62;
constexpr double kCharW = 6.3;  // average glyph width at 11px sans-serif
constexpr double kRowH = 17;

std::string f1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string unit_of(const ComputeRoof& c) {
  std::string f = lower(c.format);
  return f.rfind("int", 0) == 0 ? "OP" : "FLOP";
}

std::vector<std::string> ordered_series(const ChartSpec& spec) {
  std::vector<std::string> order;
  std::set<std::string> seen;
  std::set<std::string> present;
  for (const auto& p : spec.points) present.insert(p.series);
  for (const auto& s : spec.series_order)
    if (present.count(s) && seen.insert(s).second) order.push_back(s);
  for (const auto& p : spec.points)
    if (seen.insert(p.series).second) order.push_back(p.series);
  return order;
}

void check_points(const ChartSpec& spec) {
  for (const auto& p : spec.points) {
    if (!(p.intensity > 0) || !std::isfinite(p.intensity) || !(p.perf > 0) || !std::isfinite(p.perf))
      fail("chart: point '", p.label.empty() ? p.series : p.label, "' has intensity ", p.intensity, " and performance ",
           p.perf, " (both must be positive and finite to plot on log axes)");
  }
}

double dlog(double v) { return std::log10(v); }

std::string marker_path(const std::string& m) {
  if (m == "square") return "M-4 -4H4V4H-4Z";
  if (m == "triangle") return "M0 -5.6L5 3.8H-5Z";
  if (m == "triangle-down") return "M0 5.6L5 -3.8H-5Z";
  if (m == "diamond") return "M0 -6L4.6 0L0 6L-4.6 0Z";
  if (m == "x") return "M-4.5 -4.5L4.5 4.5M-4.5 4.5L4.5 -4.5";
  if (m == "plus") return "M-5.5 0H5.5M0 -5.5V5.5";
  if (m == "star") {
    std::string d;
    for (int i = 0; i < 10; i++) {
      double r = (i % 2 == 0) ? 6.2 : 2.6;
      double a = -M_PI / 2 + i * M_PI / 5;
      d += (i == 0 ? "M" : "L") + f1(r * std::cos(a)) + " " + f1(r * std::sin(a));
    }
    return d + "Z";
  }
  // circle: a little larger than the square so a square drawn on the same spot stays visible inside it
  return "M-6.3 0A6.3 6.3 0 1 0 6.3 0A6.3 6.3 0 1 0 -6.3 0Z";
}

// Open markers: points of different series often coincide (e.g. every batch-1 linear sits at
// ~1 FLOP/B), and outlines of different shapes stay readable on top of each other.
std::string marker_attrs(const SeriesStyle& st) {
  if (st.filled && st.marker != "x" && st.marker != "plus")
    return "fill=\"" + st.color + "\" fill-opacity=\"0.85\" stroke=\"#222\" stroke-width=\"0.8\"";
  return "fill=\"" + st.color + "\" fill-opacity=\"0.12\" stroke=\"" + st.color + "\" stroke-width=\"1.8\"";
}

}  // namespace

const std::vector<std::string>& marker_names() {
  static const std::vector<std::string> m = {"circle", "square", "triangle", "diamond", "x", "plus", "triangle-down", "star"};
  return m;
}

const std::vector<std::string>& palette() {
  static const std::vector<std::string> p = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                             "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return p;
}

ChartAxes choose_axes(const ChartSpec& spec) {
  check_points(spec);
  const HardwareSpec& hw = spec.hw;
  double bw = hw.memory().bytes_per_s;
  double min_ridge = INFINITY, max_ridge = 0, max_peak = 0, min_peak = INFINITY;
  for (const auto& c : hw.compute) {
    min_ridge = std::min(min_ridge, c.ops_per_s / bw);
    max_ridge = std::max(max_ridge, c.ops_per_s / bw);
    max_peak = std::max(max_peak, c.ops_per_s);
    min_peak = std::min(min_peak, c.ops_per_s);
  }
  double px_lo = INFINITY, px_hi = 0, py_lo = INFINITY, py_hi = 0;
  for (const auto& p : spec.points) {
    px_lo = std::min(px_lo, p.intensity);
    px_hi = std::max(px_hi, p.intensity);
    py_lo = std::min(py_lo, p.perf);
    py_hi = std::max(py_hi, p.perf);
  }
  // x: from well left of the smallest ridge (so the bandwidth slope is visible) and of the
  // points, to past the largest ridge and the points.
  double x_lo = std::min(px_lo / 1.6, min_ridge / 20);
  double x_hi = std::max(px_hi * 1.6, max_ridge * 8);
  ChartAxes a;
  a.x_lo = std::pow(10, std::floor(dlog(x_lo)));
  a.x_hi = std::pow(10, std::ceil(dlog(x_hi)));
  // y: up to headroom above the highest roof (room for its label); down to the lowest point
  // and where the main-memory slope enters the plot.
  double y_hi = std::max(max_peak * 1.3, py_hi * 1.6);
  double y_lo = std::min(py_lo / 1.6, std::max(bw * a.x_lo, min_peak / 1e4));
  a.y_hi = std::pow(10, std::ceil(dlog(y_hi)));
  a.y_lo = std::pow(10, std::floor(dlog(y_lo)));
  if (a.y_hi / a.y_lo < 1e3) a.y_lo = a.y_hi / 1e3;
  if (a.x_hi / a.x_lo < 1e2) a.x_lo = a.x_hi / 1e2;
  return a;
}

std::string render_svg(const ChartSpec& spec) {
  spec.hw.validate("chart hardware");
  ChartAxes ax = choose_axes(spec);
  const HardwareSpec& hw = spec.hw;
  const double lx0 = dlog(ax.x_lo), lx1 = dlog(ax.x_hi), ly0 = dlog(ax.y_lo), ly1 = dlog(ax.y_hi);
  auto X = [&](double x) { return kLeft + (dlog(x) - lx0) / (lx1 - lx0) * kPlotW; };
  auto Y = [&](double y) { return kTop + (1 - (dlog(y) - ly0) / (ly1 - ly0)) * kPlotH; };
  const double right = kLeft + kPlotW, bottom = kTop + kPlotH;

  const ComputeRoof* ridge_roof = spec.ridge_compute.empty() ? &hw.primary() : hw.find_compute(spec.ridge_compute);
  if (!ridge_roof) ridge_roof = &hw.primary();
  const double bw_main = hw.memory().bytes_per_s;
  double max_peak = 0, max_bw = 0;
  for (const auto& c : hw.compute) max_peak = std::max(max_peak, c.ops_per_s);
  for (const auto& b : hw.bandwidth) max_bw = std::max(max_bw, b.bytes_per_s);

  // ---- styles and legend
  std::vector<std::string> series = ordered_series(spec);
  std::map<std::string, SeriesStyle> style;
  for (size_t i = 0; i < series.size(); i++) {
    SeriesStyle st{palette()[i % palette().size()], marker_names()[(i / palette().size()) % marker_names().size()]};
    if (auto it = spec.styles.find(series[i]); it != spec.styles.end()) {
      if (!it->second.color.empty()) st.color = it->second.color;
      if (!it->second.marker.empty()) st.marker = it->second.marker;
      st.filled = it->second.filled;
    }
    style[series[i]] = st;
  }
  struct LegendRow {
    std::string text;
    std::string kind;  // "line" | "marker" | "header"
    std::string color, dash, series;
    double width = 1.5;
    SeriesStyle st;
  };
  std::vector<LegendRow> rows;
  const std::string bw_main_color = "#1f4e9c", bw_other_color = "#6f9fd8";
  const std::string c_main_color = "#c0392b", c_other_color = "#e08a5b", ridge_color = "#2e8b57";
  auto header = [&](const std::string& text) {
    LegendRow r;
    r.text = text, r.kind = "header";
    rows.push_back(r);
  };
  auto line_row = [&](const std::string& text, const std::string& color, const std::string& dash, double w) {
    LegendRow r;
    r.text = text, r.kind = "line", r.color = color, r.dash = dash, r.width = w;
    rows.push_back(r);
  };
  header("Roofs (" + hw.name + ")");
  for (size_t i = 0; i < hw.bandwidth.size(); i++)
    line_row(hw.bandwidth[i].name + " " + fmt_bandwidth(hw.bandwidth[i].bytes_per_s), i == 0 ? bw_main_color : bw_other_color,
             i == 0 ? "" : "6 3", i == 0 ? 2.2 : 1.4);
  for (const auto& c : hw.compute) {
    bool main = &c == ridge_roof;
    line_row(c.name + " " + fmt_flops(c.ops_per_s, unit_of(c)), main ? c_main_color : c_other_color, main ? "" : "6 3",
             main ? 2.2 : 1.4);
  }
  line_row("ridge " + fmt_num(hw.ridge(*ridge_roof)) + " " + unit_of(*ridge_roof) + "/B (" + ridge_roof->name + ")",
           ridge_color, "4 4", 1.4);
  if (!series.empty()) header("Points");
  for (const auto& s : series) {
    LegendRow r;
    r.text = s, r.kind = "marker", r.series = s, r.st = style[s];
    rows.push_back(r);
  }
  size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.text.size());
  double col_w = std::min(360.0, 34 + kCharW * (double)longest);
  int rows_per_col = std::max(1, (int)((kPlotH + kBottom - 20) / kRowH));
  int cols = (int)((rows.size() + rows_per_col - 1) / rows_per_col);
  rows_per_col = (int)((rows.size() + cols - 1) / cols);  // balance the columns
  const double legend_x = right + 26;
  double width = legend_x + cols * col_w + 12;
  double title_w = std::max(spec.title.size() * 8.6, spec.subtitle.size() * kCharW) + 40;
  width = std::max(width, title_w);
  const double height = kTop + kPlotH + kBottom;

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << f1(width) << "\" height=\"" << f1(height)
    << "\" viewBox=\"0 0 " << f1(width) << " " << f1(height) << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  o << "<title>" << xml_escape(spec.title) << "</title>\n";
  o << "<defs><clipPath id=\"plot-clip\"><rect x=\"" << f1(kLeft) << "\" y=\"" << f1(kTop) << "\" width=\"" << f1(kPlotW)
    << "\" height=\"" << f1(kPlotH) << "\"/></clipPath></defs>\n";
  o << "<rect x=\"0\" y=\"0\" width=\"" << f1(width) << "\" height=\"" << f1(height) << "\" fill=\"#ffffff\"/>\n";
  o << "<text x=\"" << f1(width / 2) << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">"
    << xml_escape(spec.title) << "</text>\n";
  if (!spec.subtitle.empty())
    o << "<text x=\"" << f1(width / 2) << "\" y=\"44\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">"
      << xml_escape(spec.subtitle) << "</text>\n";
  o << "<rect id=\"plot-area\" x=\"" << f1(kLeft) << "\" y=\"" << f1(kTop) << "\" width=\"" << f1(kPlotW) << "\" height=\""
    << f1(kPlotH) << "\" fill=\"#fcfcfc\" stroke=\"#333\" stroke-width=\"1\"/>\n";

  // ---- grid and ticks
  o << "<g class=\"grid\" stroke-width=\"0.6\">\n";
  for (int e = (int)std::lround(lx0); e <= (int)std::lround(lx1); e++) {
    for (int m = 1; m <= 9; m++) {
      double v = m * std::pow(10, e);
      if (v < ax.x_lo * 0.999 || v > ax.x_hi * 1.001) continue;
      double x = X(v);
      bool major = m == 1;
      o << "<line x1=\"" << f1(x) << "\" y1=\"" << f1(kTop) << "\" x2=\"" << f1(x) << "\" y2=\"" << f1(bottom) << "\" stroke=\""
        << (major ? "#bbb" : "#e6e6e6") << "\"" << (major ? " stroke-dasharray=\"3 3\"" : "") << "/>\n";
    }
  }
  for (int e = (int)std::lround(ly0); e <= (int)std::lround(ly1); e++) {
    for (int m = 1; m <= 9; m++) {
      double v = m * std::pow(10, e);
      if (v < ax.y_lo * 0.999 || v > ax.y_hi * 1.001) continue;
      double y = Y(v);
      bool major = m == 1;
      o << "<line x1=\"" << f1(kLeft) << "\" y1=\"" << f1(y) << "\" x2=\"" << f1(right) << "\" y2=\"" << f1(y) << "\" stroke=\""
        << (major ? "#bbb" : "#e6e6e6") << "\"" << (major ? " stroke-dasharray=\"3 3\"" : "") << "/>\n";
    }
  }
  o << "</g>\n<g class=\"ticks\" font-size=\"12\" fill=\"#222\">\n";
  for (int e = (int)std::lround(lx0); e <= (int)std::lround(lx1); e++) {
    double v = std::pow(10, e);
    o << "<line x1=\"" << f1(X(v)) << "\" y1=\"" << f1(bottom) << "\" x2=\"" << f1(X(v)) << "\" y2=\"" << f1(bottom + 5)
      << "\" stroke=\"#333\"/>\n";
    o << "<text x=\"" << f1(X(v)) << "\" y=\"" << f1(bottom + 19) << "\" text-anchor=\"middle\">" << si_label(v) << "</text>\n";
  }
  for (int e = (int)std::lround(ly0); e <= (int)std::lround(ly1); e++) {
    double v = std::pow(10, e);
    o << "<line x1=\"" << f1(kLeft - 5) << "\" y1=\"" << f1(Y(v)) << "\" x2=\"" << f1(kLeft) << "\" y2=\"" << f1(Y(v))
      << "\" stroke=\"#333\"/>\n";
    o << "<text x=\"" << f1(kLeft - 8) << "\" y=\"" << f1(Y(v) + 4) << "\" text-anchor=\"end\">" << si_label(v) << "</text>\n";
  }
  o << "</g>\n";
  o << "<text x=\"" << f1(kLeft + kPlotW / 2) << "\" y=\"" << f1(height - 14)
    << "\" text-anchor=\"middle\" font-size=\"13\">Operational intensity (FLOP/Byte)</text>\n";
  o << "<text transform=\"translate(" << f1(20) << " " << f1(kTop + kPlotH / 2)
    << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">Performance (FLOP/s)</text>\n";

  // ---- roofs (clipped analytically; the clip path is a safety net)
  o << "<g class=\"roofs\" clip-path=\"url(#plot-clip)\" fill=\"none\">\n";
  struct Label {
    double x, y, angle;
    std::string text, color, anchor;
  };
  std::vector<Label> slope_labels, flat_labels;
  for (size_t i = 0; i < hw.bandwidth.size(); i++) {
    const auto& b = hw.bandwidth[i];
    // y = b * x, from the left/bottom edge up to the highest compute roof.
    double xa = std::max(ax.x_lo, ax.y_lo / b.bytes_per_s);
    double xb = std::min({ax.x_hi, ax.y_hi / b.bytes_per_s, max_peak / b.bytes_per_s});
    if (!(xa < xb)) continue;
    bool main = i == 0;
    o << "<line class=\"roof-bandwidth\" data-roof=\"" << xml_escape(b.name) << "\" x1=\"" << f1(X(xa)) << "\" y1=\""
      << f1(Y(b.bytes_per_s * xa)) << "\" x2=\"" << f1(X(xb)) << "\" y2=\"" << f1(Y(b.bytes_per_s * xb)) << "\" stroke=\""
      << (main ? bw_main_color : bw_other_color) << "\" stroke-width=\"" << (main ? "2.2" : "1.4") << "\""
      << (main ? "" : " stroke-dasharray=\"6 3\"") << "/>\n";
    // Label along the slope, a little in from where the line enters the plot.
    double angle = std::atan2(Y(b.bytes_per_s * xb) - Y(b.bytes_per_s * xa), X(xb) - X(xa)) * 180 / M_PI;
    double seg = X(xb) - X(xa);
    std::string text = b.name + " " + fmt_bandwidth(b.bytes_per_s);
    double tw = kCharW * (double)text.size();
    // Slide the label along its line until it clears the labels already placed (nearly
    // parallel roofs, e.g. L3 and DRAM, would otherwise print on top of each other).
    for (double off = std::min(14.0, seg * 0.1); off + tw * 0.7 < seg; off += 40) {
      double lx = X(xa) + off;
      double t = off / std::max(seg, 1e-9);
      double ly = Y(b.bytes_per_s * xa) + t * (Y(b.bytes_per_s * xb) - Y(b.bytes_per_s * xa)) - 5;
      bool clash = false;
      // Compare in the rotated frame of the text: along the baseline and across it.
      double ca = std::cos(angle * M_PI / 180), sa = std::sin(angle * M_PI / 180);
      for (const auto& o2 : slope_labels) {
        double dx = lx - o2.x, dy = ly - o2.y;
        double along = dx * ca + dy * sa, across = -dx * sa + dy * ca;
        double w2 = kCharW * (double)o2.text.size();
        if (std::fabs(across) < 14 && along > -tw - 4 && along < w2 + 4) clash = true;
      }
      if (!clash) {
        slope_labels.push_back({lx, ly, angle, text, main ? bw_main_color : "#3d6fae", "start"});
        break;
      }
    }
  }
  for (const auto& c : hw.compute) {
    if (c.ops_per_s < ax.y_lo || c.ops_per_s > ax.y_hi) continue;
    double xa = std::max(ax.x_lo, c.ops_per_s / max_bw);
    if (!(xa < ax.x_hi)) continue;
    bool main = &c == ridge_roof;
    o << "<line class=\"roof-compute\" data-roof=\"" << xml_escape(c.name) << "\" x1=\"" << f1(X(xa)) << "\" y1=\""
      << f1(Y(c.ops_per_s)) << "\" x2=\"" << f1(right) << "\" y2=\"" << f1(Y(c.ops_per_s)) << "\" stroke=\""
      << (main ? c_main_color : c_other_color) << "\" stroke-width=\"" << (main ? "2.2" : "1.4") << "\""
      << (main ? "" : " stroke-dasharray=\"6 3\"") << "/>\n";
    flat_labels.push_back({right - 5, Y(c.ops_per_s) - 4, 0, c.name + " " + fmt_flops(c.ops_per_s, unit_of(c)),
                           main ? c_main_color : "#b0603a", "end"});
  }
  // Ridge: vertical line for the highlighted roof; a ring at every compute roof's ridge
  // against main memory.
  double rx = hw.ridge(*ridge_roof);
  if (rx > ax.x_lo && rx < ax.x_hi) {
    o << "<line class=\"ridge-line\" x1=\"" << f1(X(rx)) << "\" y1=\"" << f1(kTop) << "\" x2=\"" << f1(X(rx)) << "\" y2=\""
      << f1(bottom) << "\" stroke=\"" << ridge_color << "\" stroke-width=\"1.4\" stroke-dasharray=\"4 4\"/>\n";
  }
  for (const auto& c : hw.compute) {
    double x = c.ops_per_s / bw_main;
    if (x <= ax.x_lo || x >= ax.x_hi || c.ops_per_s <= ax.y_lo || c.ops_per_s >= ax.y_hi) continue;
    o << "<circle class=\"ridge\" cx=\"" << f1(X(x)) << "\" cy=\"" << f1(Y(c.ops_per_s)) << "\" r=\"4\" stroke=\""
      << ridge_color << "\" stroke-width=\"1.6\" fill=\"#fff\"><title>ridge " << xml_escape(c.name) << " vs "
      << xml_escape(hw.memory().name) << ": " << fmt_num(x) << " " << unit_of(c) << "/B</title></circle>\n";
  }
  o << "</g>\n";

  // ---- points, in legend order so later series draw on top
  o << "<g class=\"points\">\n";
  for (const auto& s : series) {
    const SeriesStyle& st = style[s];
    std::string d = marker_path(st.marker), attrs = marker_attrs(st);
    for (const auto& p : spec.points) {
      if (p.series != s) continue;
      o << "<path class=\"point\" data-series=\"" << xml_escape(s) << "\" transform=\"translate(" << f1(X(p.intensity)) << " "
        << f1(Y(p.perf)) << ")\" d=\"" << d << "\" " << attrs << "><title>"
        << xml_escape((p.label.empty() ? s : p.label) + ": " + fmt_num(p.intensity) + " FLOP/B, " + fmt_flops(p.perf))
        << "</title></path>\n";
    }
  }
  o << "</g>\n";

  // ---- roof labels (compute labels pushed apart vertically so they never overlap)
  // A compute label goes above its roof unless points crowd that spot and below is freer.
  auto hits = [&](double lx, double ly, double w) {
    int n = 0;
    for (const auto& p : spec.points) {
      double px = X(p.intensity), py = Y(p.perf);
      if (px > lx - w - 6 && px < lx + 6 && py + 6 > ly - 9 && py - 6 < ly + 2) n++;
    }
    return n;
  };
  for (auto& l : flat_labels) {
    double w = kCharW * (double)l.text.size();
    double above = l.y, below = l.y + 20;  // baseline 16 px under the roof
    if (hits(l.x, above, w) > 0 && hits(l.x, below, w) < hits(l.x, above, w) && below < bottom - 4) l.y = below;
  }
  std::sort(flat_labels.begin(), flat_labels.end(), [](const Label& a, const Label& b) { return a.y < b.y; });
  for (size_t i = 1; i < flat_labels.size(); i++)
    flat_labels[i].y = std::max(flat_labels[i].y, flat_labels[i - 1].y + 13);
  o << "<g class=\"roof-labels\" font-size=\"11\">\n";
  for (const auto& l : flat_labels) {
    if (l.y > bottom - 3 || l.y < kTop + 10) continue;
    o << "<text x=\"" << f1(l.x) << "\" y=\"" << f1(l.y) << "\" text-anchor=\"end\" fill=\"" << l.color
      << "\" stroke=\"#fcfcfc\" stroke-width=\"3\" paint-order=\"stroke\">" << xml_escape(l.text) << "</text>\n";
  }
  for (const auto& l : slope_labels) {
    o << "<text transform=\"translate(" << f1(l.x) << " " << f1(l.y) << ") rotate(" << f1(l.angle) << ")\" fill=\"" << l.color
      << "\" stroke=\"#fcfcfc\" stroke-width=\"3\" paint-order=\"stroke\">" << xml_escape(l.text) << "</text>\n";
  }
  if (rx > ax.x_lo && rx < ax.x_hi) {
    o << "<text transform=\"translate(" << f1(X(rx) - 5) << " " << f1(bottom - 8) << ") rotate(-90)\" fill=\"" << ridge_color
      << "\" stroke=\"#fcfcfc\" stroke-width=\"3\" paint-order=\"stroke\">ridge " << fmt_num(rx) << " " << unit_of(*ridge_roof)
      << "/B</text>\n";
  }
  o << "</g>\n";

  // ---- legend
  o << "<g class=\"legend\" font-size=\"11\">\n";
  for (size_t i = 0; i < rows.size(); i++) {
    int col = (int)(i / rows_per_col), row = (int)(i % rows_per_col);
    double x = legend_x + col * col_w, y = kTop + 4 + row * kRowH;
    const LegendRow& r = rows[i];
    if (r.kind == "header") {
      o << "<text x=\"" << f1(x) << "\" y=\"" << f1(y + 4) << "\" font-weight=\"bold\">" << xml_escape(r.text) << "</text>\n";
      continue;
    }
    if (r.kind == "line") {
      o << "<g class=\"legend-roof\"><line x1=\"" << f1(x) << "\" y1=\"" << f1(y) << "\" x2=\"" << f1(x + 24) << "\" y2=\"" << f1(y)
        << "\" stroke=\"" << r.color << "\" stroke-width=\"" << f1(r.width) << "\""
        << (r.dash.empty() ? "" : " stroke-dasharray=\"" + r.dash + "\"") << "/>";
    } else {
      o << "<g class=\"legend-entry\" data-series=\"" << xml_escape(r.series) << "\"><path transform=\"translate(" << f1(x + 12)
        << " " << f1(y) << ")\" d=\"" << marker_path(r.st.marker) << "\" " << marker_attrs(r.st) << "/>";
    }
    o << "<text x=\"" << f1(x + 30) << "\" y=\"" << f1(y + 4) << "\">" << xml_escape(r.text) << "</text></g>\n";
  }
  o << "</g>\n</svg>\n";
  return o.str();
}

namespace {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
}  // namespace

std::string render_csv(const ChartSpec& spec) {
  check_points(spec);
  std::ostringstream o;
  o << "series,kind,phase,op,seq,batch,flops,bytes,intensity_flop_per_byte,perf_flop_per_s,time_s,label\n";
  for (const auto& p : spec.points) {
    o << csv_field(p.series) << "," << csv_field(p.kind) << "," << csv_field(p.phase) << "," << csv_field(p.op) << ","
      << (p.seq ? std::to_string(p.seq) : "") << "," << (p.batch ? std::to_string(p.batch) : "") << ","
      << (p.flops > 0 ? num(p.flops) : "") << "," << (p.bytes > 0 ? num(p.bytes) : "") << "," << num(p.intensity) << ","
      << num(p.perf) << "," << (p.time_s > 0 ? num(p.time_s) : "") << "," << csv_field(p.label) << "\n";
  }
  return o.str();
}

std::string render_json(const ChartSpec& spec) {
  check_points(spec);
  nlohmann::ordered_json j;
  j["title"] = spec.title;
  j["subtitle"] = spec.subtitle;
  nlohmann::ordered_json hw;
  hw["name"] = spec.hw.name;
  hw["description"] = spec.hw.description;
  hw["source"] = spec.hw.source;
  hw["bandwidth"] = nlohmann::ordered_json::array();
  for (const auto& b : spec.hw.bandwidth) hw["bandwidth"].push_back({{"name", b.name}, {"bytes_per_s", b.bytes_per_s}});
  hw["compute"] = nlohmann::ordered_json::array();
  for (const auto& c : spec.hw.compute)
    hw["compute"].push_back({{"name", c.name}, {"format", c.format}, {"ops_per_s", c.ops_per_s},
                             {"ridge_flop_per_byte", spec.hw.ridge(c)}});
  j["hardware"] = hw;
  ChartAxes ax = choose_axes(spec);
  j["axes"] = {{"x_min", ax.x_lo}, {"x_max", ax.x_hi}, {"y_min", ax.y_lo}, {"y_max", ax.y_hi}};
  j["points"] = nlohmann::ordered_json::array();
  for (const auto& p : spec.points) {
    nlohmann::ordered_json q;
    q["series"] = p.series;
    q["kind"] = p.kind;
    if (!p.phase.empty()) q["phase"] = p.phase;
    if (!p.op.empty()) q["op"] = p.op;
    if (p.seq) q["seq"] = p.seq;
    if (p.batch) q["batch"] = p.batch;
    if (p.flops > 0) q["flops"] = p.flops;
    if (p.bytes > 0) q["bytes"] = p.bytes;
    q["intensity_flop_per_byte"] = p.intensity;
    q["perf_flop_per_s"] = p.perf;
    if (p.time_s > 0) q["time_s"] = p.time_s;
    q["label"] = p.label;
    j["points"].push_back(q);
  }
  return j.dump(2) + "\n";
}

}  // namespace rooflm::roofline
