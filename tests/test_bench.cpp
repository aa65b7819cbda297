// rooflm bench: prompt files (three formats, malformed lines, arbitrary bytes), the
// statistics (median, spread, speedup, acceptance, greedy equality) and the roofline chart
// data on hand-made runs, the table/JSON, and the CLI (bad input; one tiny real run).
// Nothing here asserts a timing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "bench/charts.h"
#include "bench/prompts.h"
#include "bench/report.h"
#include "bench/runner.h"
#include "bench/stats.h"
#include "core/error.h"
#include "roofline/chart.h"
#include "roofline/hardware.h"
#include "test_util.h"

using namespace rooflm;
using namespace rooflm::bench;
using prof::OpClass;

namespace {

// Expects rooflm::Error whose message contains every part.
template <typename F>
std::string expect_error(F&& fn, std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected rooflm::Error";
  } catch (const Error& e) {
    for (const char* p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "message: " << e.what() << "\nmissing: " << p;
    return e.what();
  }
  return "";
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// ------------------------------------------------------------------ prompt files

TEST(BenchPrompts, MtBenchUsesTheFirstTurn) {
  const auto p = parse_prompt_file(
      "{\"question_id\": 81, \"category\": \"writing\", \"turns\": [\"Write a blog post.\", \"Rewrite it.\"]}\n"
      "{\"question_id\": \"x2\", \"turns\": [\"Only one turn\"]}\n",
      "mt.jsonl");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].id, "mt_bench/81");
  EXPECT_EQ(p[0].text, "Write a blog post.");
  EXPECT_EQ(p[1].id, "mt_bench/x2");
  EXPECT_EQ(p[1].text, "Only one turn");
}

TEST(BenchPrompts, HumanEvalKeepsThePromptVerbatim) {
  const auto p = parse_prompt_file(
      "{\"task_id\": \"HumanEval/0\", \"prompt\": \"def f(x):\\n    \\\"\\\"\\\" doc \\\"\\\"\\\"\\n\"}", "he.jsonl");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].id, "HumanEval/0");
  EXPECT_EQ(p[0].text, "def f(x):\n    \"\"\" doc \"\"\"\n");  // no trailing newline after the last line is fine
}

TEST(BenchPrompts, PlainPromptsBlankLinesCrlfAndIds) {
  const auto p = parse_prompt_file(
      "\n{\"prompt\": \"first\"}\r\n  \t\n{\"prompt\": \"second\", \"id\": \"mine\"}\n{\"prompt\": \"third\", \"id\": 7}\n\n",
      "dir/plain.jsonl");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].id, "plain.jsonl:2");  // line numbers count blank lines
  EXPECT_EQ(p[0].text, "first");        // the CR of CRLF is not part of the line
  EXPECT_EQ(p[1].id, "mine");
  EXPECT_EQ(p[1].text, "second");
  EXPECT_EQ(p[2].id, "7");
}

TEST(BenchPrompts, UnicodeAndEscapes) {
  const auto p = parse_prompt_file("{\"prompt\": \"caf\\u00e9 \xe2\x9c\x93 tab\\there\"}", "u.jsonl");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].text, "caf\xc3\xa9 \xe2\x9c\x93 tab\there");
}

TEST(BenchPrompts, MalformedLinesNameTheLineAndWhatWasExpected) {
  const std::string good = "{\"prompt\": \"ok\"}\n\n";  // lines 1-2; the bad line is line 3
  auto bad = [&](const std::string& line, std::initializer_list<const char*> parts) {
    SCOPED_TRACE(line);
    expect_error([&] { parse_prompt_file(good + line + "\n" + good, "p.jsonl"); }, parts);
  };
  bad("{\"prompt\": \"unterminated}", {"p.jsonl:3", "not valid JSON", "expected a JSON object"});
  bad("not json at all", {"p.jsonl:3", "not valid JSON"});
  bad("{\"prompt\": \"a\"} trailing", {"p.jsonl:3", "not valid JSON"});
  bad("[\"prompt\", \"a\"]", {"p.jsonl:3", "got an array", "\"prompt\" (a string) or \"turns\""});
  bad("\"just a string\"", {"p.jsonl:3", "got a string"});
  bad("{\"text\": \"a\"}", {"p.jsonl:3", "no \"prompt\" or \"turns\" key"});
  bad("{\"prompt\": 42}", {"p.jsonl:3", "\"prompt\" is a number, expected a string"});
  bad("{\"prompt\": \"\"}", {"p.jsonl:3", "empty string"});
  bad("{\"turns\": []}", {"p.jsonl:3", "\"turns\" is an empty array", "array of strings"});
  bad("{\"turns\": [1, \"a\"]}", {"p.jsonl:3", "not starting with a string"});
  bad("{\"turns\": \"a\"}", {"p.jsonl:3", "\"turns\" is a string"});
  bad("{\"prompt\": \"a\", \"turns\": [\"b\"]}", {"p.jsonl:3", "both \"prompt\" and \"turns\""});
  bad("{\"prompt\": \"a\", \"task_id\": [1]}", {"p.jsonl:3", "\"task_id\" is an array, expected a string or an integer"});
  bad("{\"prompt\": \"a\", \"question_id\": 1.5}", {"p.jsonl:3", "\"question_id\" is a number"});
  bad(std::string(100, '[') + std::string(100, ']'), {"p.jsonl:3", "nested deeper than"});
  bad("{\"prompt\": \"bad \xff byte\"}", {"p.jsonl:3", "not valid JSON"});
}

TEST(BenchPrompts, NoPromptsIsAnError) {
  expect_error([] { parse_prompt_file("", "empty.jsonl"); }, {"empty.jsonl", "no prompts"});
  expect_error([] { parse_prompt_file("\n  \n\r\n", "blank.jsonl"); }, {"blank.jsonl", "no prompts"});
}

TEST(BenchPrompts, ErrorMessagesStayPrintable) {
  // The parser's message quotes the input; control bytes must not reach the terminal.
  const std::string msg = expect_error([] { parse_prompt_file("\x1b[31m\x01", "x.jsonl"); }, {"x.jsonl:1"});
  for (char c : msg) EXPECT_FALSE((unsigned char)c < 0x20) << "control byte in: " << msg;
}

TEST(BenchPrompts, ArbitraryBytesThrowOnlyRooflmErrors) {
  // What the fuzz target checks, in miniature: random bytes and mutations of valid lines
  // either parse or throw rooflm::Error; nothing else escapes.
  std::mt19937 rng(1234);
  const std::string seed = "{\"task_id\": \"HumanEval/1\", \"prompt\": \"x\"}\n{\"question_id\": 5, \"turns\": [\"a\", \"b\"]}\n";
  int parsed = 0, errors = 0;
  for (int i = 0; i < 3000; i++) {
    std::string s = seed;
    if (i % 3 == 0) {
      s.assign((size_t)(rng() % 64), '\0');
      for (char& c : s) c = (char)(rng() % 256);
    } else {
      for (int k = 0, n = 1 + (int)(rng() % 4); k < n; k++) s[rng() % s.size()] = (char)(rng() % 256);
    }
    try {
      const auto p = parse_prompt_file(s, "fuzz.jsonl");
      EXPECT_FALSE(p.empty());
      for (const auto& x : p) EXPECT_FALSE(x.text.empty());
      parsed++;
    } catch (const Error&) {
      errors++;
    }
  }
  EXPECT_GT(parsed, 0);
  EXPECT_GT(errors, 0);
}

TEST(BenchPrompts, CommittedMainSetAndFileErrors) {
  const auto p = load_prompt_file(test::source_dir() + "/bench/prompts/main.jsonl");
  ASSERT_EQ(p.size(), 8u);
  EXPECT_EQ(p[0].id, "HumanEval/0");
  EXPECT_EQ(p[4].id, "mt_bench/81");
  EXPECT_NE(p[4].text.find("Hawaii"), std::string::npos);
  expect_error([] { load_prompt_file("/no/such/prompts.jsonl"); }, {"prompt file", "/no/such/prompts.jsonl"});
  const std::string path = test::temp_path("bad_prompts.jsonl");
  {
    std::ofstream(path) << "{\"prompt\": \"a\"}\n{\"prompt\": 1}\n";
  }
  expect_error([&] { load_prompt_file(path); }, {"prompt file", "bad_prompts.jsonl:2", "expected a string"});
  std::filesystem::remove(path);
}

// ------------------------------------------------------------------ statistics

TEST(BenchStats, MedianAndQuantilesInterpolate) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(quantile({1, 2, 3, 4}, 0.25), 1.75);  // numpy.percentile([1,2,3,4], 25)
  EXPECT_DOUBLE_EQ(quantile({1, 2, 3, 4}, 0.75), 3.25);
  EXPECT_DOUBLE_EQ(quantile({5}, 0.9), 5.0);
  EXPECT_TRUE(std::isnan(median({})));
  const Spread s = spread_of({10, 40, 20, 30, 100});
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.median, 30);
  EXPECT_DOUBLE_EQ(s.min, 10);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.q1, 20);
  EXPECT_DOUBLE_EQ(s.q3, 40);
  EXPECT_EQ(spread_of({}).n, 0u);
}

TEST(BenchStats, AcceptanceByDepth) {
  const auto a = acceptance_by_depth({6, 3, 0}, {10, 6, 0});
  ASSERT_EQ(a.size(), 3u);
  EXPECT_DOUBLE_EQ(a[0], 0.6);
  EXPECT_DOUBLE_EQ(a[1], 0.5);
  EXPECT_DOUBLE_EQ(a[2], 0.0);  // nothing offered at depth 3
}

namespace {

RunRecord rec(size_t prompt, const std::string& mode, int n_tokens, double decode_ms, int64_t steps,
              std::vector<int64_t> accepted = {}, std::vector<int64_t> offered = {}, int32_t token_base = 0) {
  RunRecord r;
  r.prompt_index = prompt;
  r.prompt_id = std::string(1, 'p') + std::to_string(prompt);
  r.mode = mode;
  r.n_prompt = 10;
  for (int i = 0; i < n_tokens; i++) r.tokens.push_back(token_base + i);
  r.decode_ms = decode_ms;
  r.prefill_ms = 5;
  r.target_steps = steps;
  r.tree_nodes = mode == "baseline" ? steps : 3 * steps;
  r.accepted_at = std::move(accepted);
  r.offered = std::move(offered);
  r.peak_rss_mb = 100 + (double)prompt;
  return r;
}

// Three prompts; baseline 100, 200, 400 tok/s; chain 1.5x, 1.0x, 2.0x of that; staged
// differs from the baseline's tokens on prompt 1.
std::vector<RunRecord> hand_made_runs() {
  return {
      rec(0, "baseline", 10, 100, 10),  rec(0, "chain", 10, 66.6666666666667, 5, {4, 1}, {5, 3}),
      rec(0, "staged", 10, 50, 4, {5, 2, 1}, {5, 4, 2}),
      rec(1, "chain", 10, 50, 5, {3, 2}, {5, 4}),  // prompt 1 ran chain first (rotation)
      rec(1, "baseline", 10, 50, 10),   rec(1, "staged", 10, 40, 5, {4, 0}, {5, 3}, /*token_base=*/1),
      rec(2, "staged", 10, 10, 3, {3, 3, 2}, {3, 3, 3}),
      rec(2, "baseline", 10, 25, 10),   rec(2, "chain", 10, 12.5, 5, {5, 5}, {5, 5}),
  };
}

}  // namespace

TEST(BenchStats, SummaryPerMode) {
  const auto runs = hand_made_runs();
  const auto s = summarize(runs, {"baseline", "chain", "staged"}, "baseline", true);
  ASSERT_EQ(s.size(), 3u);
  const ModeSummary& base = s[0];
  EXPECT_EQ(base.mode, "baseline");
  EXPECT_EQ(base.runs, 3u);
  EXPECT_DOUBLE_EQ(base.tok_s.median, 200);
  EXPECT_DOUBLE_EQ(base.tok_s.min, 100);
  EXPECT_DOUBLE_EQ(base.tok_s.max, 400);
  EXPECT_DOUBLE_EQ(base.speedup.median, 1.0);
  EXPECT_DOUBLE_EQ(base.tokens_per_step, 1.0);
  EXPECT_FALSE(base.greedy.checked);
  EXPECT_EQ(base.greedy.note, "reference");
  EXPECT_TRUE(base.acceptance.empty());
  EXPECT_DOUBLE_EQ(base.peak_rss_mb, 102);

  const ModeSummary& chain = s[1];
  EXPECT_NEAR(chain.tok_s.median, 200, 1e-9);        // 150, 200, 800
  EXPECT_NEAR(chain.speedup.median, 1.5, 1e-9);      // ratios 1.5, 1.0, 2.0 (not 200/200)
  EXPECT_NEAR(chain.speedup.min, 1.0, 1e-9);
  EXPECT_NEAR(chain.speedup.max, 2.0, 1e-9);
  EXPECT_DOUBLE_EQ(chain.tokens_per_step, 2.0);      // 30 tokens / 15 steps
  EXPECT_DOUBLE_EQ(chain.nodes_per_step, 3.0);
  ASSERT_EQ(chain.acceptance.size(), 2u);
  EXPECT_DOUBLE_EQ(chain.acceptance[0], 12.0 / 15.0);  // (4+3+5) / (5+5+5)
  EXPECT_DOUBLE_EQ(chain.acceptance[1], 8.0 / 12.0);   // (1+2+5) / (3+4+5)
  EXPECT_TRUE(chain.greedy.checked);
  EXPECT_EQ(chain.greedy.compared, 3);
  EXPECT_EQ(chain.greedy.equal, 3);
  EXPECT_FALSE(chain.greedy.failed());

  const ModeSummary& staged = s[2];
  ASSERT_EQ(staged.accepted_at.size(), 3u);  // depths from runs of different depth add up
  EXPECT_EQ(staged.accepted_at[2], 3);
  EXPECT_EQ(staged.offered[2], 5);
  EXPECT_TRUE(staged.greedy.failed());
  EXPECT_EQ(staged.greedy.equal, 2);
  ASSERT_EQ(staged.greedy.mismatched.size(), 1u);
  EXPECT_EQ(staged.greedy.mismatched[0], "p1");
  const auto failures = greedy_failures(s);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], "staged: 1 of 3 prompts differ from baseline (p1)");
}

TEST(BenchStats, NoBaselineOrSamplingSkipsTheGreedyCheck) {
  const auto runs = hand_made_runs();
  auto s = summarize(runs, {"staged"}, "", true);
  EXPECT_FALSE(s[0].greedy.checked);
  EXPECT_EQ(s[0].greedy.note, "no baseline");
  EXPECT_EQ(s[0].speedup.n, 0u);
  s = summarize(runs, {"baseline", "staged"}, "baseline", false);
  EXPECT_FALSE(s[1].greedy.checked);
  EXPECT_EQ(s[1].greedy.note, "sampling");
  EXPECT_TRUE(greedy_failures(s).empty());
}

TEST(BenchStats, RunsWithoutTokensStayOutOfTheSpeeds) {
  std::vector<RunRecord> runs = {rec(0, "baseline", 0, 3, 0), rec(0, "chain", 0, 3, 0)};  // EOS at once
  const auto s = summarize(runs, {"baseline", "chain"}, "baseline", true);
  EXPECT_EQ(s[1].tok_s.n, 0u);
  EXPECT_EQ(s[1].speedup.n, 0u);
  EXPECT_EQ(s[1].greedy.equal, 1);  // both empty: equal
}

TEST(BenchRunner, ModesParseRotateAndValidate) {
  spec::SpecConfig base;
  const auto m = parse_modes("baseline, chain,tree,staged", base);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].spec.mode, spec::SpecMode::None);
  EXPECT_EQ(m[3].spec.mode, spec::SpecMode::Staged);
  expect_error([&] { parse_modes("baseline,fast", base); }, {"BenchPlan::modes", "'fast'", "baseline, chain, tree, staged"});
  expect_error([&] { parse_modes("tree,tree", base); }, {"BenchPlan::modes", "twice"});
  expect_error([&] { parse_modes("baseline,,tree", base); }, {"BenchPlan::modes"});
  base.draft_path = "draft.gguf";
  expect_error([&] { parse_modes("baseline", base); }, {"SpecOptions::draft_path", "no speculative mode"});
  EXPECT_TRUE(parse_modes("baseline,staged", base)[0].spec.draft_path.empty());  // baseline ignores -d
  EXPECT_EQ(mode_order(4, 0), (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_EQ(mode_order(4, 1), (std::vector<size_t>{1, 2, 3, 0}));
  EXPECT_EQ(mode_order(4, 6), (std::vector<size_t>{2, 3, 0, 1}));
}

// ------------------------------------------------------------------ chart data

namespace {

prof::Aggregate agg(const std::string& phase, OpClass op, double flops, double bytes, uint64_t ns, uint64_t calls = 1) {
  return {phase, op, flops, bytes, ns, calls};
}

// A synthetic profile: baseline decodes at 1 FLOP/B; staged verifies trees (4 FLOP/B) and
// spends some work on the draft phase; both prefill.
std::vector<RunRecord> profiled_runs() {
  RunRecord b = rec(0, "baseline", 100, 500, 100);  // 0.5 s decode
  b.prefill_ms = 100;
  b.profile = {agg("init", OpClass::qkv, 8e9, 1e9, 50'000'000), agg("ar", OpClass::qkv, 1e9, 1e9, 100'000'000),
               agg("ar", OpClass::o, 1e9, 1e9, 100'000'000), agg("ar", OpClass::up_gate_down, 2e9, 2e9, 200'000'000),
               agg("ar", OpClass::other, 1e8, 1e9, 50'000'000)};
  RunRecord s = rec(0, "staged", 100, 250, 40);  // 0.25 s decode
  s.prefill_ms = 100;
  s.profile = {agg("init", OpClass::qkv, 8e9, 1e9, 50'000'000), agg("tree:4", OpClass::qkv, 4e9, 1e9, 100'000'000),
               agg("tree:4", OpClass::up_gate_down, 8e9, 2e9, 100'000'000), agg("ar", OpClass::qkv, 1e9, 1e9, 10'000'000),
               agg("draft", OpClass::lm_head, 1e9, 1e9, 20'000'000)};
  return {b, s};
}

const roofline::ChartPoint* find_point(const roofline::ChartSpec& c, const std::string& series) {
  for (const auto& p : c.points)
    if (p.series == series) return &p;
  return nullptr;
}

}  // namespace

TEST(BenchCharts, WholeModelPointsSumEveryDecodeKernelOverWallTime) {
  const auto runs = profiled_runs();
  const Work w = decode_work(runs, "staged");
  EXPECT_DOUBLE_EQ(w.flops, 4e9 + 8e9 + 1e9 + 1e9);  // tree, ar and draft phases; init excluded
  EXPECT_DOUBLE_EQ(w.bytes, 1e9 + 2e9 + 1e9 + 1e9);
  EXPECT_DOUBLE_EQ(w.wall_s, 0.25);
  EXPECT_NEAR(w.kernel_s, 0.23, 1e-12);
  EXPECT_EQ(w.tokens, 100);

  const roofline::ChartSpec c = whole_model_chart(runs, {"baseline", "staged"});
  ASSERT_EQ(c.points.size(), 3u);
  EXPECT_EQ(c.series_order, (std::vector<std::string>{"baseline", "staged", "prefill (all modes)"}));
  const auto* base = find_point(c, "baseline");
  ASSERT_TRUE(base);
  EXPECT_DOUBLE_EQ(base->intensity, 4.1e9 / 5e9);
  EXPECT_DOUBLE_EQ(base->perf, 4.1e9 / 0.5);
  EXPECT_EQ(base->kind, "measured");
  const auto* staged = find_point(c, "staged");
  ASSERT_TRUE(staged);
  EXPECT_DOUBLE_EQ(staged->intensity, 14e9 / 5e9);
  EXPECT_DOUBLE_EQ(staged->perf, 14e9 / 0.25);
  EXPECT_GT(staged->intensity, base->intensity);  // trees move the model right
  const auto* pre = find_point(c, "prefill (all modes)");
  ASSERT_TRUE(pre);
  EXPECT_DOUBLE_EQ(pre->intensity, 8.0);
  EXPECT_DOUBLE_EQ(pre->perf, 16e9 / 0.2);
  EXPECT_EQ(c.styles.at("staged").color, "#d62728");
  EXPECT_TRUE(c.styles.at("staged").filled);
}

TEST(BenchCharts, PerOpPointsGroupQkvAndOOverKernelTime) {
  const auto runs = profiled_runs();
  const roofline::ChartSpec c = per_op_chart(runs, {"baseline", "staged"});
  const auto* qkvo = find_point(c, "qkv/o baseline");
  ASSERT_TRUE(qkvo);
  EXPECT_DOUBLE_EQ(qkvo->flops, 2e9);               // qkv + o
  EXPECT_DOUBLE_EQ(qkvo->perf, 2e9 / 0.2);          // over their kernel time
  EXPECT_DOUBLE_EQ(qkvo->intensity, 1.0);
  const auto* ffn = find_point(c, "up/gate/down staged");
  ASSERT_TRUE(ffn);
  EXPECT_DOUBLE_EQ(ffn->intensity, 4.0);
  const auto* head = find_point(c, "lm_head staged");  // the draft phase counts as decode work
  ASSERT_TRUE(head);
  EXPECT_DOUBLE_EQ(head->perf, 1e9 / 0.02);
  const auto* pre = find_point(c, "qkv/o prefill");
  ASSERT_TRUE(pre);
  EXPECT_DOUBLE_EQ(pre->flops, 16e9);  // both runs' prefill
  EXPECT_FALSE(find_point(c, "other baseline"));  // element-wise ops stay off the chart
  EXPECT_FALSE(find_point(c, "lm_head baseline"));  // nothing recorded: no point
  EXPECT_EQ(c.styles.at("qkv/o staged").marker, "circle");
  EXPECT_EQ(c.styles.at("up/gate/down staged").marker, "square");
  EXPECT_EQ(c.styles.at("qkv/o staged").color, c.styles.at("up/gate/down staged").color);  // color = mode
}

TEST(BenchCharts, RenderOnHardwareAndReport) {
  const auto runs = profiled_runs();
  roofline::ChartSpec c = whole_model_chart(runs, {"baseline", "staged"});
  c.hw = roofline::hardware_preset("a100-80gb-pcie");
  c.title = "t";
  const std::string svg = roofline::render_svg(c);
  EXPECT_NE(svg.find("data-series=\"staged\""), std::string::npos);
  EXPECT_NE(svg.find("data-series=\"prefill (all modes)\""), std::string::npos);

  const auto s = summarize(runs, {"baseline", "staged"}, "baseline", true);
  BenchInfo info;
  info.model = "models/m.gguf";
  info.prompts_file = "p.jsonl";
  info.n_prompts = 1;
  const std::string table = format_table(info, s, runs);
  EXPECT_NE(table.find("baseline"), std::string::npos);
  EXPECT_NE(table.find("2.00x"), std::string::npos);   // 400 vs 200 tok/s
  EXPECT_NE(table.find("same 1/1"), std::string::npos);
  EXPECT_NE(table.find("2.80"), std::string::npos);    // staged FLOP/B
  EXPECT_EQ(table.find("FAILURE"), std::string::npos);

  const auto j = bench_json(info, s, runs, {}, c, per_op_chart(runs, {"baseline", "staged"}));
  EXPECT_EQ(j["format"], "rooflm-bench");
  ASSERT_EQ(j["modes"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["modes"][1]["speedup"]["median"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["modes"][1]["roofline"]["intensity_flop_per_byte"].get<double>(), 2.8);
  EXPECT_TRUE(j["modes"][0]["speedup"]["median"].get<double>() == 1.0);
  EXPECT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][1]["profile"].size(), 5u);
  EXPECT_TRUE(j["failures"].empty());
}

TEST(BenchCharts, TableReportsGreedyFailures) {
  const auto runs = hand_made_runs();
  const auto s = summarize(runs, {"baseline", "chain", "staged"}, "baseline", true);
  const std::string table = format_table(BenchInfo{}, s, runs);
  EXPECT_NE(table.find("FAIL 2/3"), std::string::npos);
  EXPECT_NE(table.find("FAILURE: greedy output differs: staged: 1 of 3 prompts differ from baseline (p1)"),
            std::string::npos);
}

// ------------------------------------------------------------------ CLI

namespace {

void expect_cli_error(const std::string& args, const std::string& needle) {
  const test::CmdResult r = test::run_rooflm(args);
  EXPECT_EQ(r.status, 1) << args << "\n" << r.out;
  EXPECT_NE(r.out.find(needle), std::string::npos) << args << "\nexpected '" << needle << "' in:\n" << r.out;
}

}  // namespace

TEST(BenchCli, BadInputNamesTheArgumentAndWritesNothing) {
  const std::string m = "-m " + test::default_model_path();
  const std::string good = test::source_dir() + "/bench/prompts/main.jsonl";
  const std::string out = test::temp_path("bench_out.json");
  std::filesystem::remove(out);
  expect_cli_error("bench " + m + " --prompts /no/such.jsonl --json " + out, "--prompts");
  expect_cli_error("bench " + m + " --prompts " + good + " --modes baseline,turbo --json " + out, "--modes");
  expect_cli_error("bench " + m + " --prompts " + good + " -t 0 --json " + out, "-t/--threads");
  expect_cli_error("bench " + m + " --prompts " + good + " -n 0 --json " + out, "-n");
  expect_cli_error("bench " + m + " --prompts " + good + " --limit -1 --json " + out, "--limit");
  expect_cli_error("bench " + m + " --prompts " + good + " --temp -1 --json " + out, "--temp");
  expect_cli_error("bench " + m + " --prompts " + good + " --json /no/such/dir/out.json", "--json");
  expect_cli_error("bench " + m + " --prompts " + good + " --chart /no/such/dir/c.svg", "--chart");
  expect_cli_error("bench " + m + " --prompts " + good + " --hw nosuchgpu --chart " + test::temp_path("c.svg"), "--hw");
  const std::string bad = test::temp_path("bad.jsonl");
  {
    std::ofstream(bad) << "{\"prompt\": \"fine\"}\n{\"prompt\": \"cut off\n";
  }
  expect_cli_error("bench " + m + " --prompts " + bad + " --json " + out, "bad.jsonl:2");
  EXPECT_FALSE(std::filesystem::exists(out));
  std::filesystem::remove(bad);
}

TEST(BenchCli, TinyRealRunBaselineAndStagedAgree) {
  ROOFLM_REQUIRE_DEFAULT_MODEL();
  const std::string prompts = test::temp_path("two.jsonl");
  {
    std::ofstream(prompts) << "{\"prompt\": \"The three primary colors are\"}\n"
                              "{\"task_id\": \"t/1\", \"prompt\": \"def add(a, b):\\n\"}\n";
  }
  const std::string json = test::temp_path("bench.json"), svg = test::temp_path("bench.svg"),
                    ops = test::temp_path("ops.svg");
  const test::CmdResult r = test::run_rooflm("bench -m " + test::default_model_path() + " --prompts " + prompts +
                                 " --modes baseline,chain,staged -n 12 -t 2 --warmup 0 --hw a100-80gb-pcie --json " +
                                 json + " --chart " + svg + " --ops-chart " + ops);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("wrote per-op roofline chart: " + ops), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(json));
  ASSERT_EQ(j["runs"].size(), 6u);
  EXPECT_TRUE(j["config"]["chat_template"].get<bool>());  // SmolLM2-Instruct has a template
  for (const auto& m : j["modes"]) {
    EXPECT_EQ(m["runs"], 2);
    if (m["mode"] != "baseline") {
      EXPECT_EQ(m["greedy_equal"]["equal"], 2) << m.dump();
      EXPECT_GE(m["tokens_per_step"].get<double>(), 1.0);
    }
    EXPECT_GT(m["roofline"]["flops"].get<double>(), 0);
  }
  EXPECT_EQ(j["prompts"][1]["id"], "t/1");
  EXPECT_NE(j["prompts"][1]["rendered"].get<std::string>().find("<|im_start|>user"), std::string::npos);
  EXPECT_NE(slurp(svg).find("data-series=\"staged\""), std::string::npos);
  EXPECT_NE(slurp(ops).find("data-series=\"qkv/o chain\""), std::string::npos);
  for (const auto& f : {prompts, json, svg, ops}) std::filesystem::remove(f);
}
