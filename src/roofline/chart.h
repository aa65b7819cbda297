// Roofline charts: hand-written SVG geometry (log-log, x = operational intensity in FLOP/B,
// y = performance in FLOP/s) with every bandwidth and compute roof of a HardwareSpec, the
// ridge points, a legend, SI tick labels and one marker + color per series; plus CSV and
// JSON of the same points.
//
// SVG structure (tests/check_svg.py relies on it): <rect id="plot-area" .../> is the plot
// area; each point is <path class="point" data-series="..." transform="translate(X Y)" ...>
// with its marker drawn around (0,0); each series has one legend entry <g class="legend-entry"
// data-series="...">; roofs are <line>/<polyline> with class "roof-bandwidth" or
// "roof-compute"; ridge markers have class "ridge".
#pragma once
#include <map>
#include <string>
#include <vector>

#include "roofline/hardware.h"

namespace rooflm::roofline {

struct ChartPoint {
  std::string series;  // legend entry the point belongs to
  double intensity = 0;  // FLOP/B (> 0)
  double perf = 0;       // FLOP/s (> 0)
  std::string label;     // tooltip / CSV label, e.g. "qkv init L=512 B=1"
  // Metadata carried into CSV/JSON (optional).
  std::string kind = "analytic";  // "analytic" | "measured" | "reference"
  std::string phase, op;
  int64_t seq = 0, batch = 0;
  double flops = 0, bytes = 0, time_s = 0;
};

struct SeriesStyle {
  std::string color;   // CSS color, e.g. "#1f77b4"
  std::string marker;  // circle, square, triangle, diamond, x, plus, triangle-down, star
  bool filled = false; // filled marker (measured points) instead of an outline (analytic)
};

struct ChartSpec {
  std::string title;
  std::string subtitle;
  HardwareSpec hw;
  std::string ridge_compute;  // compute roof whose ridge gets the vertical line ("" = primary)
  std::vector<ChartPoint> points;
  std::vector<std::string> series_order;      // legend order ("" = order of first appearance)
  std::map<std::string, SeriesStyle> styles;  // optional per-series style
};

struct ChartAxes {
  double x_lo, x_hi, y_lo, y_hi;  // decade-aligned, covering every point and the ridges
};

// Markers available for SeriesStyle::marker, in default order.
const std::vector<std::string>& marker_names();
// Default palette (10 colors).
const std::vector<std::string>& palette();

ChartAxes choose_axes(const ChartSpec& spec);
// Throws rooflm::Error if a point has a non-positive or non-finite coordinate.
std::string render_svg(const ChartSpec& spec);
std::string render_csv(const ChartSpec& spec);
std::string render_json(const ChartSpec& spec);

}  // namespace rooflm::roofline
