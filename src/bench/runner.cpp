#include "bench/runner.h"

#include <algorithm>

#include "bench/memory.h"
#include "core/error.h"
#include "decode/run.h"
#include "roofline/profiler.h"
#include "roofline/util.h"

namespace rooflm::bench {

std::vector<BenchMode> parse_modes(const std::string& list, const spec::SpecConfig& base) {
  std::vector<BenchMode> modes;
  for (const auto& name : roofline::split_list(list, "BenchPlan::modes")) {
    BenchMode m{name, base};
    if (name == "baseline") m.spec.mode = spec::SpecMode::None;
    else if (name == "chain") m.spec.mode = spec::SpecMode::Chain;
    else if (name == "tree") m.spec.mode = spec::SpecMode::Tree;
    else if (name == "staged") m.spec.mode = spec::SpecMode::Staged;
    else fail("BenchPlan::modes: unknown mode '", name, "'; expected a comma-separated list of baseline, chain, tree, staged");
    for (const auto& other : modes)
      if (other.name == name) fail("BenchPlan::modes: '", name, "' is listed twice");
    if (m.spec.mode == spec::SpecMode::None) m.spec.draft_path.clear(), m.spec.ngram_corpus.clear(), m.spec.shipped_head = false;
    m.spec.validate();
    modes.push_back(std::move(m));
  }
  const bool any_spec = std::any_of(modes.begin(), modes.end(), [](const BenchMode& m) { return m.spec.mode != spec::SpecMode::None; });
  if (!base.draft_path.empty() && !any_spec) fail("SpecOptions::draft_path: BenchPlan::modes '", list, "' has no speculative mode (chain, tree, staged)");
  return modes;
}

std::vector<size_t> mode_order(size_t n_modes, size_t prompt_index) {
  std::vector<size_t> order(n_modes);
  for (size_t k = 0; k < n_modes; k++) order[k] = (prompt_index + k) % n_modes;
  return order;
}

std::vector<PreparedPrompt> prepare_prompts(const Model& model, const std::vector<BenchPrompt>& prompts, bool chat,
                                            int64_t n_predict, const std::string& source) {
  std::vector<PreparedPrompt> out;
  for (const auto& p : prompts) {
    PreparedPrompt pp{p, p.text, {}, 0};
    try {
      if (chat) pp.rendered = chat_prompt(model.tokenizer(), p.text);
      pp.ids = encode_prompt(model.tokenizer(), p.text, chat);
      if (pp.ids.empty()) fail("encodes to no tokens");
      pp.n_ctx = context_for(model.config(), (int64_t)pp.ids.size(), n_predict);
    } catch (const Error& e) {
      fail(source, ": prompt ", p.id, ": ", e.what());
    }
    out.push_back(std::move(pp));
  }
  return out;
}

namespace {

RunRecord run_one(const Model& model, ThreadPool& pool, const PreparedPrompt& p, size_t index, const BenchMode& mode,
                  int64_t n_predict, const SamplerParams& sampling) {
  reset_peak_rss();
  prof::reset();
  prof::enable(true);
  GenerationRun g;
  try {
    g = run_generation(model, pool, p.ids, n_predict, p.n_ctx, sampling, mode.spec);
  } catch (...) {
    prof::enable(false);
    throw;
  }
  prof::enable(false);
  RunRecord r;
  r.prompt_index = index;
  r.prompt_id = p.prompt.id;
  r.mode = mode.name;
  r.drafter = g.drafter;
  r.n_prompt = g.result.n_prompt;
  r.tokens = std::move(g.result.tokens);
  r.stop_reason = g.result.stop_reason;
  r.prefill_ms = g.result.prefill_ms;
  r.decode_ms = g.result.decode_ms;
  r.target_steps = g.result.target_steps;
  // Plain decoding runs one node per target forward.
  r.tree_nodes = g.drafter.empty() ? g.result.target_steps : g.stats.tree_nodes;
  r.accepted_at = g.stats.accepted_at;
  r.offered = g.stats.offered;
  r.draft_ms = g.stats.draft_ms;
  r.verify_ms = g.stats.verify_ms;
  r.peak_rss_mb = peak_rss_mb();
  r.profile = prof::snapshot();
  return r;
}

}  // namespace

std::vector<RunRecord> run_bench(const Model& model, ThreadPool& pool, const BenchPlan& plan, const ProgressFn& progress) {
  std::vector<RunRecord> runs;
  if (plan.prompts.empty() || plan.modes.empty()) return runs;
  const int64_t warm_n = std::min(plan.n_predict, plan.warmup_tokens);
  for (int w = 0; w < plan.warmup; w++)
    for (const auto& mode : plan.modes) {
      RunRecord r = run_one(model, pool, plan.prompts[0], 0, mode, warm_n, plan.sampling);
      if (progress) progress(0, 0, r, true);
    }
  const size_t total = plan.prompts.size() * plan.modes.size();
  runs.reserve(total);
  for (size_t i = 0; i < plan.prompts.size(); i++)
    for (size_t m : mode_order(plan.modes.size(), i)) {
      runs.push_back(run_one(model, pool, plan.prompts[i], i, plan.modes[m], plan.n_predict, plan.sampling));
      if (progress) progress(runs.size(), total, runs.back(), false);
    }
  return runs;
}

}  // namespace rooflm::bench
