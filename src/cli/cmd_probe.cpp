// `rooflm probe`: measure this machine's bandwidth and compute roofs, print them, cache them.
#include <cctype>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/util.h"
#include "core/error.h"
#include "roofline/probe.h"
#include "roofline/util.h"

namespace rooflm::cli {

namespace {

struct ProbeArgs {
  bool json = false, cached = false, quick = false, no_save = false, verbose = false;
  int threads = 0;
  std::string out;
  std::string working_set;
};

// "96M", "96MiB" (binary), "100MB" (decimal), "4096" (bytes) -> bytes.
uint64_t parse_working_set(const std::string& text) {
  const std::string what = "--working-set: expected a size such as 96M, 96MiB, 100MB or 1G (64 KiB to 64 GiB), got '" + text + "'";
  size_t i = 0;
  while (i < text.size() && std::isdigit((unsigned char)text[i])) i++;
  if (i == 0 || i > 12) fail(what);
  const uint64_t n = std::stoull(text.substr(0, i));
  const std::string unit = text.substr(i);
  struct Unit {
    const char* name;
    uint64_t mult;
  };
  static const Unit kUnits[] = {{"", 1},          {"B", 1},           {"K", 1ull << 10},  {"KiB", 1ull << 10},
                                {"M", 1ull << 20}, {"MiB", 1ull << 20}, {"G", 1ull << 30},  {"GiB", 1ull << 30},
                                {"KB", 1000},      {"MB", 1000000},     {"GB", 1000000000}};
  uint64_t mult = 0;
  for (const Unit& u : kUnits)
    if (unit == u.name) mult = u.mult;
  if (mult == 0 || n > (64ull << 30) / mult) fail(what);  // (the bound first: n * mult may not overflow)
  const uint64_t bytes = n * mult;
  if (bytes < (64ull << 10) || bytes > (64ull << 30)) fail(what);
  return bytes;
}

void run(const ProbeArgs& a) {
  check_threads(a.threads, /*allow_zero=*/true);
  roofline::ProbeResult r;
  std::string cache_path;
  if (a.cached && !a.working_set.empty()) fail("--cached and --working-set: choose one (a working-set measurement is never cached)");
  if (a.cached) {
    auto c = roofline::load_probe_cache(a.threads);
    if (!c) fail("--cached: no probe result cached at ", roofline::probe_cache_path(a.threads), " (run `rooflm probe` first)");
    r = *c;
    cache_path = roofline::probe_cache_path(a.threads);
  } else {
    roofline::ProbeOptions opt;
    opt.threads = a.threads;
    opt.quick = a.quick;
    if (!a.working_set.empty()) opt.only_working_set = parse_working_set(a.working_set);
    if (a.verbose) opt.progress = [](const std::string& s) { std::cerr << "probe: " << s << "\n"; };
    r = roofline::run_probe(opt);
    if (!a.no_save && opt.only_working_set == 0) cache_path = roofline::save_probe_cache(r);
  }
  std::string json = roofline::probe_to_json(r);
  if (!a.out.empty()) roofline::write_file_atomic(a.out, json, "-o/--output");
  if (a.json) {
    std::cout << json;
  } else {
    std::cout << roofline::format_probe_table(r);
    if (!cache_path.empty()) std::cout << (a.cached ? "from cache: " : "cached: ") << cache_path << "\n";
    if (!a.out.empty()) std::cout << "wrote: " << a.out << "\n";
  }
}

}  // namespace

void register_probe(CLI::App& app) {
  auto args = std::make_shared<ProbeArgs>();
  CLI::App* sub = app.add_subcommand(
      "probe", "Measure this machine's roofs (read bandwidth per cache level and DRAM; fp32 FMA, int8/bf16 dot, AMX peaks) "
               "and cache them for the `host` hardware preset");
  sub->add_flag("--json", args->json, "Print the result as JSON instead of a table");
  sub->add_flag("--cached", args->cached, "Print the cached result for this CPU without measuring");
  sub->add_flag("--quick", args->quick, "Shorter, less accurate timings (~3 s)");
  sub->add_flag("--no-save", args->no_save, "Do not update the cache");
  sub->add_flag("-v,--verbose", args->verbose, "Print progress to stderr");
  sub->add_option("--threads,-t", args->threads, "Threads to measure with (default: all available CPUs)");
  sub->add_option("-o,--output", args->out, "Also write the JSON result to this file");
  sub->add_option("--working-set", args->working_set,
                  "Measure only the read bandwidth at this working set (e.g. 96M, 100MB: a model's weight bytes), as level "
                  "'set'; not cached");
  sub->callback([args] { run(*args); });
}

}  // namespace rooflm::cli
