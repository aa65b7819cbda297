// rooflm bench: every prompt of a file in every decoding mode (plain, chain, tree, staged
// speculation) on one model, a table per mode, greedy equality with the baseline, and the
// run's measured roofline points (whole model and per op) on this machine's roofs.
// The work itself lives in src/bench/; this file parses flags, checks them, and writes.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "bench/charts.h"
#include "bench/progress.h"
#include "bench/prompts.h"
#include "bench/report.h"
#include "bench/runner.h"
#include "bench/stats.h"
#include "bench/verify_curve.h"
#include "cli/commands.h"
#include "cli/util.h"
#include "core/error.h"
#include "roofline/hardware.h"
#include "roofline/probe.h"
#include "roofline/util.h"

namespace rooflm::cli {

namespace {

struct BenchOptions {
  std::string model, draft, prompts, modes = "baseline,chain,tree,staged";
  std::string json, chart, ops_chart, hw = "host";
  int64_t limit = 0;  // 0 = all prompts
  int64_t n_predict = 128;
  int threads = (int)std::max(1u, std::thread::hardware_concurrency());
  int warmup = 1;
  bool no_chat_template = false;
  bool head = false;
  std::string tune;
  std::string verify_curve;  // node counts: measure the verify-cost curve instead of prompts
  int64_t context = 128;
  int rounds = 9;
  SamplerParams sampling;
  BenchOptions() { sampling.temperature = 0; }  // greedy by default: outputs are checked against the baseline
};

// --verify-curve: the cost of a verify forward of N nodes against its bound (bench/verify_curve.h).
void run_verify_curve_command(const BenchOptions& o) {
  if (!o.prompts.empty()) fail("--verify-curve: measures forwards, not prompts; drop --prompts (run them in a separate rooflm bench)");
  if (!o.draft.empty()) fail("--verify-curve: measures the target model alone; drop -d/--draft");
  if (!o.ops_chart.empty()) fail("--ops-chart: not drawn with --verify-curve (--chart draws the verify-cost chart)");
  const bool probe_file = o.hw.size() > 5 && o.hw.substr(o.hw.size() - 5) == ".json";
  if (o.hw != "host" && !probe_file)
    fail("--hw: --verify-curve takes its read roofs from a probe result: host (this machine's, cached) or a "
         "`rooflm probe --json` file, got '", o.hw, "'");
  const std::vector<int> nodes = bench::parse_node_list(o.verify_curve, bench::kMaxVerifyNodes, "--verify-curve");
  if (o.context < 0) fail("--context: expected a number of tokens >= 0, got ", o.context);
  if (o.rounds < 1 || o.rounds > 10000) fail("--rounds: expected 1..10000 rounds, got ", o.rounds);
  check_output(o.json, "--json");
  check_output(o.chart, "--chart");
  const roofline::ProbeResult probe = probe_file ? roofline::probe_from_json(roofline::read_file(o.hw, "--hw"), o.hw)
                                                 : roofline::host_probe(o.threads);  // may measure once (~15 s)

  std::unique_ptr<Model> model = Model::load(o.model);
  const int64_t n_ctx = model->config().n_ctx_train;
  if (o.context + nodes.back() > n_ctx)
    fail("--context: ", o.context, " tokens + ", nodes.back(), " nodes exceed the model's context of ", n_ctx);
  ThreadPool pool(o.threads);
  bench::VerifyCurveOptions vo;
  vo.nodes = nodes;
  vo.context = o.context;
  vo.rounds = o.rounds;
  const bench::VerifyCurve curve = bench::measure_verify_curve(
      *model, pool, vo, probe, [](const std::string& line) { std::cerr << "verify curve: " << line << "\n"; });

  const std::string svg = o.chart.empty() ? "" : bench::verify_curve_svg(curve);
  const std::string json = o.json.empty() ? "" : bench::verify_curve_json(curve).dump(1) + "\n";
  std::cout << bench::format_verify_table(curve);
  if (!o.json.empty()) roofline::write_file_atomic(o.json, json, "--json");
  if (!o.chart.empty()) roofline::write_file_atomic(o.chart, svg, "--chart");
  for (const auto& [path, label] : {std::pair{o.json, "JSON"}, std::pair{o.chart, "verify-cost chart"}})
    if (!path.empty()) std::cout << "wrote " << label << ": " << path << "\n";
  std::cout.flush();
}

void run_bench_command(const BenchOptions& o) {
  // Every flag is checked before the model loads or anything runs.
  check_threads(o.threads);
  apply_tune_flag(o.tune);
  if (!o.verify_curve.empty()) return run_verify_curve_command(o);
  if (o.prompts.empty()) fail("--prompts: required (a JSONL prompt file), unless --verify-curve is given");
  if (o.n_predict < 1) fail("-n: expected a number of tokens >= 1, got ", o.n_predict);
  if (o.limit < 0) fail("--limit: expected a number of prompts >= 1 (or 0 for all), got ", o.limit);
  if (o.warmup < 0) fail("--warmup: expected a number of rounds >= 0, got ", o.warmup);
  o.sampling.validate();
  spec::SpecConfig base;
  base.draft_path = o.draft;
  base.shipped_head = o.head;
  const std::vector<bench::BenchMode> modes = bench::parse_modes(o.modes, base);
  check_output(o.json, "--json");
  check_output(o.chart, "--chart");
  check_output(o.ops_chart, "--ops-chart");
  std::vector<BenchPrompt> prompts = load_prompt_file(o.prompts, "--prompts");
  if (o.limit > 0 && (size_t)o.limit < prompts.size()) prompts.resize((size_t)o.limit);
  // Resolved up front: `host` may run the probe once (~15 s), and a bad --hw should fail now.
  const bool charts = !o.chart.empty() || !o.ops_chart.empty();
  roofline::HardwareSpec hw;
  if (charts) hw = roofline::resolve_hardware(o.hw, "--hw");

  std::unique_ptr<Model> model = Model::load(o.model);
  const bool chat = !o.no_chat_template && model->tokenizer().has_chat_template();
  bench::BenchPlan plan;
  plan.prompts = bench::prepare_prompts(*model, prompts, chat, o.n_predict, "--prompts " + o.prompts);
  plan.modes = modes;
  plan.n_predict = o.n_predict;
  plan.sampling = o.sampling;
  plan.warmup = o.warmup;
  ThreadPool pool(o.threads);

  bench::Progress progress(stderr, ::isatty(STDERR_FILENO) != 0);
  const std::vector<bench::RunRecord> runs =
      bench::run_bench(*model, pool, plan, [&](size_t done, size_t total, const bench::RunRecord& r, bool warm) {
        if (warm) progress.warmup(r);
        else progress.update(done, total, r);
      });
  progress.finish();

  std::vector<std::string> mode_names;
  for (const auto& m : modes) mode_names.push_back(m.name);
  const bool has_baseline = std::find(mode_names.begin(), mode_names.end(), "baseline") != mode_names.end();
  const auto summaries = bench::summarize(runs, mode_names, has_baseline ? "baseline" : "", o.sampling.greedy());

  bench::BenchInfo info;
  info.model = o.model;
  info.model_name = model->config().name;
  info.synthetic = model->config().synthetic;
  info.draft = o.draft;
  info.prompts_file = o.prompts;
  info.n_prompts = plan.prompts.size();
  info.chat = chat;
  info.n_predict = o.n_predict;
  info.temp = o.sampling.temperature;
  info.seed = o.sampling.seed;
  info.threads = o.threads;
  info.warmup = o.warmup;
  info.hardware = charts ? hw.name : "";

  // Render everything, then write: a rendering error leaves no output behind.
  roofline::ChartSpec whole = bench::whole_model_chart(runs, mode_names);
  roofline::ChartSpec per_op = bench::per_op_chart(runs, mode_names);
  // The file name says which model and quantization; GGUF general.name is often a training tag.
  const std::string what = std::filesystem::path(o.model).filename().replace_extension().string() +
                           (info.synthetic ? " (synthetic)" : "") + " on " +
                           (charts ? hw.name : std::string("this machine"));
  const std::string sub = bench::count_of((int64_t)plan.prompts.size(), "prompt") + " x " +
                          bench::count_of(o.n_predict, "token") + ", " + bench::count_of(o.threads, "thread") +
                          "; every kernel call counted (rejected candidates and drafts included); compulsory bytes";
  whole.hw = per_op.hw = hw;
  whole.title = "rooflm bench: " + what + ", whole model, measured";
  whole.subtitle = sub + "; performance = FLOPs / wall-clock decode (prefill) time";
  per_op.title = "rooflm bench: " + what + ", per op class (decode by mode, prefill), measured";
  per_op.subtitle = sub + "; performance = FLOPs / kernel time";
  const std::string svg = o.chart.empty() ? "" : roofline::render_svg(whole);
  const std::string ops_svg = o.ops_chart.empty() ? "" : roofline::render_svg(per_op);
  const std::string json =
      o.json.empty() ? ""
                     : bench::bench_json(info, summaries, runs, plan.prompts, whole, per_op)
                               .dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

  std::cout << bench::format_table(info, summaries, runs);
  if (!o.json.empty()) roofline::write_file_atomic(o.json, json, "--json");
  if (!o.chart.empty()) roofline::write_file_atomic(o.chart, svg, "--chart");
  if (!o.ops_chart.empty()) roofline::write_file_atomic(o.ops_chart, ops_svg, "--ops-chart");
  for (const auto& [path, label] : {std::pair{o.json, "JSON"}, std::pair{o.chart, "whole-model roofline chart"},
                                    std::pair{o.ops_chart, "per-op roofline chart"}})
    if (!path.empty()) std::cout << "wrote " << label << ": " << path << "\n";
  std::cout.flush();

  // A speculative mode that changes greedy output is a bug, never a footnote: exit non-zero.
  const auto failures = bench::greedy_failures(summaries);
  if (!failures.empty()) fail("greedy output differs from baseline: ", failures.front(),
                              failures.size() > 1 ? " (and more modes; see the table)" : "");
}

}  // namespace

void register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* b = app.add_subcommand(
      "bench", "Benchmark decoding modes (baseline, chain, tree, staged) on a prompt file, with roofline charts");
  b->add_option("-m,--model", o->model, "GGUF file or Hugging Face model directory")->required();
  b->add_option("-d,--draft", o->draft,
                "Draft model (same tokenizer) or draft head for the speculative modes (default: n-gram drafters)");
  b->add_flag("--head", o->head, "Speculative modes draft with the model's shipped draft head (heads/; an error when none matches)");
  b->add_option("--prompts", o->prompts,
                "JSONL prompt file: MT-Bench (turns), HumanEval (prompt) or {\"prompt\": ...} (required unless --verify-curve)");
  b->add_option("--limit", o->limit, "Use only the first K prompts (default: all)");
  b->add_option("--modes", o->modes, "Comma-separated modes: baseline, chain, tree, staged (default: all four)");
  b->add_option("-n,--n-predict", o->n_predict, "Tokens to generate per prompt (default 128)");
  b->add_option("--temp", o->sampling.temperature, "Temperature; 0 = greedy, checked equal to baseline (default 0)");
  b->add_option("--seed", o->sampling.seed, "Random seed for --temp > 0 (default 42)");
  b->add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  b->add_option("--tune", o->tune, "Kernel settings NAME=V[,NAME=V] (src/kernels/tuning.h; default: the measured ones)");
  b->add_option("--warmup", o->warmup, "Warm-up rounds (first prompt, every mode, 32 tokens) before measuring (default 1)");
  b->add_flag("--no-chat-template", o->no_chat_template, "Feed prompts as raw text even when the model has a chat template");
  b->add_option("--json", o->json, "Write the configuration, summaries, roofline points and every run as JSON");
  b->add_option("--chart", o->chart, "Write the whole-model roofline chart (SVG), one point per mode");
  b->add_option("--ops-chart", o->ops_chart, "Write the per-op-class roofline chart (SVG)");
  b->add_option("--verify-curve", o->verify_curve,
                "Measure the cost of verify forwards of N nodes, e.g. 1,2,4,8,16,32,64,128, against their bound "
                "(instead of prompts)");
  b->add_option("--context", o->context, "--verify-curve: committed tokens before each forward (default 128)");
  b->add_option("--rounds", o->rounds, "--verify-curve: rounds of one forward per N; medians over rounds (default 9)");
  b->add_option("--hw", o->hw, "Hardware roofs for the charts: a preset or .json (default host, measured by rooflm probe)");
  b->callback([o] { run_bench_command(*o); });
}

}  // namespace rooflm::cli
