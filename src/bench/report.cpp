#include "bench/report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "roofline/util.h"

namespace rooflm::bench {

namespace {

using nlohmann::ordered_json;

constexpr size_t kTableDepths = 4;  // acceptance columns in the text table (the JSON has all)

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string acceptance_cell(const ModeSummary& s) {
  if (s.acceptance.empty()) return "-";
  std::string out;
  for (size_t d = 0; d < s.acceptance.size() && d < kTableDepths; d++) {
    if (d) out += ' ';
    out += fmt("%.2f", s.acceptance[d]);
  }
  if (s.acceptance.size() > kTableDepths) out += " ..";
  return out;
}

std::string greedy_cell(const GreedyCheck& g) {
  if (!g.checked) return g.note;
  return (g.failed() ? "FAIL " : "same ") + std::to_string(g.equal) + "/" + std::to_string(g.compared);
}

ordered_json spread_json(const Spread& s) {
  if (s.n == 0) return nullptr;
  return {{"n", s.n}, {"median", s.median}, {"min", s.min}, {"max", s.max}, {"q1", s.q1}, {"q3", s.q3}};
}

ordered_json work_json(const Work& w) {
  return {{"flops", w.flops},
          {"bytes", w.bytes},
          {"intensity_flop_per_byte", w.bytes > 0 ? w.flops / w.bytes : 0.0},
          {"kernel_s", w.kernel_s},
          {"wall_s", w.wall_s},
          {"perf_flop_per_s", w.wall_s > 0 ? w.flops / w.wall_s : 0.0},
          {"kernel_calls", w.calls},
          {"tokens", w.tokens}};
}

ordered_json points_json(const roofline::ChartSpec& c) {
  ordered_json a = ordered_json::array();
  for (const auto& p : c.points)
    a.push_back({{"series", p.series}, {"phase", p.phase}, {"op", p.op}, {"flops", p.flops}, {"bytes", p.bytes},
                 {"time_s", p.time_s}, {"intensity_flop_per_byte", p.intensity}, {"perf_flop_per_s", p.perf},
                 {"label", p.label}});
  return a;
}

}  // namespace

std::string count_of(int64_t n, const std::string& noun) { return std::to_string(n) + " " + noun + (n == 1 ? "" : "s"); }

std::vector<std::string> greedy_failures(const std::vector<ModeSummary>& modes) {
  std::vector<std::string> out;
  for (const auto& s : modes) {
    if (!s.greedy.failed()) continue;
    std::string ids;
    for (size_t i = 0; i < s.greedy.mismatched.size(); i++) ids += (i ? ", " : "") + s.greedy.mismatched[i];
    out.push_back(s.mode + ": " + std::to_string(s.greedy.compared - s.greedy.equal) + " of " +
                  std::to_string(s.greedy.compared) + " prompts differ from baseline (" + ids + ")");
  }
  return out;
}

std::string format_table(const BenchInfo& info, const std::vector<ModeSummary>& modes, const std::vector<RunRecord>& runs) {
  std::ostringstream o;
  o << "rooflm bench: " << std::filesystem::path(info.model).filename().string() << (info.synthetic ? " (synthetic)" : "");
  if (!info.draft.empty()) o << " (draft " << std::filesystem::path(info.draft).filename().string() << ")";
  o << " | " << count_of((int64_t)info.n_prompts, "prompt") << " from " << info.prompts_file
    << (info.chat ? ", chat template" : ", raw text") << " | " << count_of(info.n_predict, "token") << ", "
    << (info.temp <= 0 ? std::string("greedy") : "temp " + fmt("%g", info.temp)) << " | "
    << count_of(info.threads, "thread") << " | warm-up " << info.warmup << "\n\n";
  char line[512];
  const char* head = "%-9s %7s %15s %15s %7s %13s %8s %5s  %-13s %6s %6s %7s  %s\n";
  std::snprintf(line, sizeof line, head, "mode", "tok/s", "[min - max]", "IQR", "speedup", "[min - max]", "tok/step",
                "nodes", "greedy=base", "RSS MB", "FLOP/B", "GFLOP/s", "acceptance at depth 1..4");
  o << line;
  for (const auto& s : modes) {
    const Work w = decode_work(runs, s.mode);
    const std::string range = fmt("[%.1f", s.tok_s.min) + fmt(" - %.1f]", s.tok_s.max);
    const std::string iqr = fmt("[%.1f", s.tok_s.q1) + fmt(" - %.1f]", s.tok_s.q3);
    const bool sp = s.speedup.n > 0;
    const std::string speed = sp ? fmt("%.2fx", s.speedup.median) : "-";
    const std::string speed_range = sp ? fmt("[%.2f", s.speedup.min) + fmt(" - %.2f]", s.speedup.max) : "";
    std::snprintf(line, sizeof line, head, s.mode.c_str(), fmt("%.1f", s.tok_s.median).c_str(), range.c_str(), iqr.c_str(),
                  speed.c_str(), speed_range.c_str(), fmt("%.2f", s.tokens_per_step).c_str(),
                  fmt("%.1f", s.nodes_per_step).c_str(), greedy_cell(s.greedy).c_str(), fmt("%.0f", s.peak_rss_mb).c_str(),
                  w.bytes > 0 ? fmt("%.2f", w.flops / w.bytes).c_str() : "-",
                  w.wall_s > 0 ? fmt("%.1f", w.flops / w.wall_s / 1e9).c_str() : "-", acceptance_cell(s).c_str());
    o << line;
  }
  o << "\n(tok/s: decode, per prompt; speedup: median of per-prompt tok/s ratios to baseline; tok/step: tokens per "
       "target forward; nodes: tree nodes per forward; FLOP/B and GFLOP/s: every kernel call of the decode incl. "
       "rejected candidates, over wall-clock decode time)\n";
  for (const auto& s : modes)
    if (!s.drafter.empty()) o << "drafter of " << s.mode << ": " << s.drafter << "\n";
  for (const auto& f : greedy_failures(modes)) o << "FAILURE: greedy output differs: " << f << "\n";
  return o.str();
}

ordered_json bench_json(const BenchInfo& info, const std::vector<ModeSummary>& modes, const std::vector<RunRecord>& runs,
                        const std::vector<PreparedPrompt>& prompts, const roofline::ChartSpec& whole_model,
                        const roofline::ChartSpec& per_op) {
  ordered_json j;
  j["format"] = "rooflm-bench";
  j["version"] = 1;
  j["config"] = {{"model", info.model},          {"model_name", info.model_name}, {"synthetic", info.synthetic},
                 {"draft", info.draft},
                 {"prompts_file", info.prompts_file}, {"n_prompts", info.n_prompts}, {"chat_template", info.chat},
                 {"n_predict", info.n_predict},  {"temp", info.temp},             {"seed", info.seed},
                 {"threads", info.threads},      {"warmup", info.warmup},         {"hardware", info.hardware}};
  j["modes"] = ordered_json::array();
  for (const auto& s : modes) {
    ordered_json m;
    m["mode"] = s.mode;
    m["drafter"] = s.drafter;
    m["runs"] = s.runs;
    m["decode_tok_s"] = spread_json(s.tok_s);
    m["speedup"] = spread_json(s.speedup);
    m["tokens"] = s.tokens;
    m["target_steps"] = s.target_steps;
    m["tokens_per_step"] = s.tokens_per_step;
    m["nodes_per_step"] = s.nodes_per_step;
    m["acceptance_by_depth"] = s.acceptance;
    m["accepted_at_depth"] = s.accepted_at;
    m["offered_at_depth"] = s.offered;
    m["greedy_equal"] = {{"checked", s.greedy.checked}, {"note", s.greedy.note},       {"compared", s.greedy.compared},
                         {"equal", s.greedy.equal},     {"mismatched", s.greedy.mismatched}};
    m["peak_rss_mb"] = s.peak_rss_mb;
    m["decode_s"] = s.decode_s;
    m["prefill_s"] = s.prefill_s;
    m["draft_s"] = s.draft_s;
    m["verify_s"] = s.verify_s;
    m["roofline"] = work_json(decode_work(runs, s.mode));
    j["modes"].push_back(m);
  }
  j["prefill"] = work_json(prefill_work(runs));
  j["charts"] = {{"whole_model", points_json(whole_model)}, {"per_op", points_json(per_op)}};
  j["prompts"] = ordered_json::array();
  for (const auto& p : prompts)
    j["prompts"].push_back({{"id", p.prompt.id}, {"text", p.prompt.text}, {"rendered", p.rendered}, {"ids", p.ids}});
  j["runs"] = ordered_json::array();
  for (const auto& r : runs) {
    ordered_json prof = ordered_json::array();
    for (const auto& a : r.profile)
      prof.push_back({{"phase", a.phase}, {"op", prof::op_name(a.op)}, {"flops", a.flops}, {"bytes", a.bytes}, {"ns", a.ns},
                      {"calls", a.calls}});
    j["runs"].push_back({{"prompt_index", r.prompt_index}, {"prompt_id", r.prompt_id}, {"mode", r.mode},
                         {"n_prompt", r.n_prompt}, {"n_generated", r.tokens.size()}, {"tokens", r.tokens},
                         {"stop_reason", r.stop_reason}, {"prefill_ms", r.prefill_ms}, {"decode_ms", r.decode_ms},
                         {"decode_tok_s", r.decode_tok_s()}, {"target_steps", r.target_steps},
                         {"tree_nodes", r.tree_nodes}, {"accepted_at_depth", r.accepted_at},
                         {"offered_at_depth", r.offered}, {"draft_ms", r.draft_ms}, {"verify_ms", r.verify_ms},
                         {"peak_rss_mb", r.peak_rss_mb}, {"profile", prof}});
  }
  j["failures"] = greedy_failures(modes);
  return j;
}

}  // namespace rooflm::bench
