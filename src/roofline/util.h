// Small helpers shared by the roofline code: atomic file output, reading whole files,
// number parsing with SI suffixes, and human-readable rates for labels and tables.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rooflm::roofline {

// Writes `content` to `path` atomically: a temporary file in the same directory is written,
// flushed, fsync'd and then renamed over `path`, so a failure never leaves a truncated file.
// `what` names the output in error messages (e.g. "--csv"). Throws rooflm::Error.
void write_file_atomic(const std::string& path, const std::string& content,
                       const std::string& what = "output");

// Reads a whole file; throws Error "<what> '<path>': cannot open ..." when it cannot.
std::string read_file(const std::string& path, const std::string& what);

// Splits "a,b,,c" on commas; trims blanks; empty items are an error naming `what`.
std::vector<std::string> split_list(const std::string& s, const std::string& what);

// Parses a positive number with an optional SI suffix: "200G" -> 2e11, "1.5k" -> 1500,
// "7e11" -> 7e11. Throws Error naming `what`.
double parse_si(const std::string& s, const std::string& what);

// Parses a positive integer (no suffix); throws Error naming `what`.
int64_t parse_positive_int(const std::string& s, const std::string& what);

// Compact SI label for axis ticks: 1e10 -> "10G", 1e12 -> "1T", 0.1 -> "0.1", 1000 -> "1k".
std::string si_label(double v);

// Number with `sig` significant digits and thousands separators: 1935 -> "1,935", 0.25 -> "0.25".
std::string fmt_num(double v, int sig = 3);

// Rates for labels: bandwidth in GB/s ("1,935 GB/s", "25.3 GB/s") and FLOP/s with a
// G/T/P prefix ("312 TFLOP/s", "281 GFLOP/s"); `unit` replaces "FLOP" (e.g. "OP" for int8).
std::string fmt_bandwidth(double bytes_per_s);
std::string fmt_flops(double flops_per_s, const std::string& unit = "FLOP");

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(const std::string& s);

// Lower-case copy.
std::string lower(std::string s);

}  // namespace rooflm::roofline
