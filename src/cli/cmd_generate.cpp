// rooflm generate: load a model, encode the prompt (optionally through the chat
// template), generate, stream the text, and report timings (text or --json).
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/util.h"
#include "core/error.h"
#include "decode/generate.h"
#include "decode/run.h"
#include "decode/speculative/spec_config.h"
#include "decode/speculative/speculative.h"
#include "model/model.h"
#include "roofline/profiler.h"
#include "roofline/util.h"

namespace rooflm::cli {

namespace {

struct GenerateOptions {
  std::string model, prompt, prompt_file, system, profile;
  int64_t n_predict = 128;
  int64_t n_ctx = 0;  // 0: prompt + n, rounded up, capped by the model
  int threads = (int)std::max(1u, std::thread::hardware_concurrency());
  bool chat = false, json = false;
  SamplerParams sampling;
  std::string spec_mode = "none";
  std::string tree_adapt = "on";
  std::string kv_type = "f16";
  std::string tune;
  spec::SpecConfig spec;
};

void run_generate(const GenerateOptions& o) {
  check_threads(o.threads);
  apply_tune_flag(o.tune);
  const int threads = o.threads;
  check_output(o.profile, "--profile");  // before the run, not after it
  if (o.n_predict < 0) fail("-n: expected a number of tokens >= 0, got ", o.n_predict);
  o.sampling.validate();
  spec::SpecConfig sc = o.spec;
  sc.mode = spec::spec_mode_from_name(o.spec_mode);
  if (o.tree_adapt != "on" && o.tree_adapt != "off") fail("--tree-adapt: expected on or off, got '", o.tree_adapt, "'");
  sc.adaptive = o.tree_adapt == "on";
  sc.validate();
  const DType kv_type = kv_type_from_name(o.kv_type);
  std::string text = o.prompt_file.empty() ? o.prompt : roofline::read_file(o.prompt_file, "-f");
  if (text.empty()) fail("-p/-f: the prompt is empty");

  std::unique_ptr<Model> model = Model::load(o.model);
  warn_if_synthetic(*model);
  const Tokenizer& tok = model->tokenizer();
  const std::vector<int32_t> prompt = encode_prompt(tok, text, o.chat, o.system);
  if (prompt.empty()) fail("-p/-f: the prompt encodes to no tokens");
  const ModelConfig& cfg = model->config();
  const int64_t n_ctx = context_for(cfg, (int64_t)prompt.size(), o.n_predict, o.n_ctx);
  ThreadPool pool(threads);

  if (!o.profile.empty()) {
    prof::reset();
    prof::enable(true);
  }
  Utf8Stream stream;
  auto on_token = [&](int32_t id) {
    if (o.json) return;
    const std::string s = stream.push(tok.token_piece(id));
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  };
  const GenerationRun run = run_generation(*model, pool, prompt, o.n_predict, n_ctx, o.sampling, sc, on_token, kv_type);
  prof::enable(false);
  const GenerateResult& r = run.result;
  const spec::SpecStats& st = run.stats;
  const bool speculative = !run.drafter.empty();

  const std::string out_text = tok.decode(r.tokens);
  const double tok_s = r.decode_ms > 0 ? (double)r.tokens.size() / (r.decode_ms / 1000.0) : 0.0;
  const double prefill_tok_s = r.prefill_ms > 0 ? (double)r.n_prompt / (r.prefill_ms / 1000.0) : 0.0;
  if (!o.profile.empty()) {
    std::ostringstream extra;
    extra << "\"model\": " << json_string(cfg.name) << ", \"threads\": " << threads
          << ", \"n_prompt\": " << r.n_prompt << ", \"n_generated\": " << r.tokens.size();
    prof::write_json(o.profile, extra.str());
  }
  if (o.json) {
    std::ostringstream js;
    js << "{\"text\": " << json_string(out_text) << ", \"tokens\": [";
    for (size_t i = 0; i < r.tokens.size(); i++) js << (i ? ", " : "") << r.tokens[i];
    js << "], \"n_prompt\": " << r.n_prompt << ", \"n_generated\": " << r.tokens.size()
       << ", \"prefill_ms\": " << r.prefill_ms << ", \"prefill_tok_s\": " << prefill_tok_s
       << ", \"decode_ms\": " << r.decode_ms << ", \"decode_tok_s\": " << tok_s
       << ", \"stop_reason\": " << json_string(r.stop_reason) << ", \"mode\": " << json_string(spec::spec_mode_name(sc.mode))
       << ", \"target_steps\": " << r.target_steps;
    const double per_step = r.target_steps ? (double)r.tokens.size() / (double)r.target_steps : 0.0;
    js << ", \"accepted_per_step\": " << per_step;
    if (speculative) {
      js << ", \"drafter\": " << json_string(run.drafter) << ", \"draft_len\": " << run.limits.depth
         << ", \"tree_size\": " << run.limits.size << ", \"tree_width\": " << sc.tree_width
         << ", \"tree_shape\": " << json_string(sc.mode == spec::SpecMode::Chain ? "chain" : sc.tree_shape)
         << ", \"tree_adapt\": " << (sc.adaptive ? "true" : "false")
         << ", \"mean_tree_nodes\": " << (st.target_steps ? (double)st.tree_nodes / st.target_steps : 0.0)
         << ", \"mean_drafted_nodes\": " << (st.target_steps ? (double)st.drafted_nodes / st.target_steps : 0.0)
         << ", \"draft_tokens_accepted\": " << st.accepted << ", \"acceptance_by_depth\": [";
      for (size_t d = 0; d < st.offered.size(); d++)
        js << (d ? ", " : "") << (st.offered[d] ? (double)st.accepted_at[d] / (double)st.offered[d] : 0.0);
      js << "], \"accepted_at_depth\": [";
      for (size_t d = 0; d < st.accepted_at.size(); d++) js << (d ? ", " : "") << st.accepted_at[d];
      js << "], \"offered_at_depth\": [";
      for (size_t d = 0; d < st.offered.size(); d++) js << (d ? ", " : "") << st.offered[d];
      js << "], \"draft_ms\": " << st.draft_ms << ", \"verify_ms\": " << st.verify_ms
         << ", \"draft_share\": " << (r.decode_ms > 0 ? st.draft_ms / r.decode_ms : 0.0)
         << ", \"verify_share\": " << (r.decode_ms > 0 ? st.verify_ms / r.decode_ms : 0.0)
         << ", \"draft_forwards\": " << st.draft.forwards;
      if (st.draft.inner_steps)
        js << ", \"draft_inner_steps\": " << st.draft.inner_steps << ", \"draft_inner_tokens_per_step\": "
           << (double)st.draft.inner_tokens / (double)st.draft.inner_steps;
      if (!sc.draft_path.empty()) js << ", \"draft_model\": " << json_string(sc.draft_path);
    }
    js << ", \"threads\": " << threads
       << ", \"load_ms\": " << model->load_ms() << ", \"n_ctx\": " << run.n_ctx
       << ", \"kv_cache_mb\": " << run.kv_bytes / 1048576.0 << ", \"kv_type\": " << json_string(o.kv_type)
       << ", \"peak_rss_mb\": " << peak_rss_mb() << ", \"model\": " << json_string(o.model) << "}\n";
    std::fputs(js.str().c_str(), stdout);
  } else {
    const std::string rest = stream.flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    std::fprintf(stderr,
                 "\n[rooflm] prompt %lld tokens, prefill %.1f ms (%.1f tok/s) | generated %zu tokens, decode %.1f ms "
                 "(%.1f tok/s) | stop: %s | threads %d | load %.0f ms | peak RSS %.0f MB\n",
                 (long long)r.n_prompt, r.prefill_ms, prefill_tok_s, r.tokens.size(), r.decode_ms, tok_s,
                 r.stop_reason.c_str(), threads, model->load_ms(), peak_rss_mb());
    if (speculative)
      std::fprintf(stderr, "[rooflm] spec %s (%s) | %lld target steps, %.2f tokens/step | draft %.0f%% verify %.0f%%\n",
                   spec::spec_mode_name(sc.mode), run.drafter.c_str(), (long long)r.target_steps,
                   r.target_steps ? (double)r.tokens.size() / (double)r.target_steps : 0.0,
                   r.decode_ms > 0 ? 100 * st.draft_ms / r.decode_ms : 0.0,
                   r.decode_ms > 0 ? 100 * st.verify_ms / r.decode_ms : 0.0);
  }
}

}  // namespace

void register_generate(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* g = app.add_subcommand("generate", "Generate text from a prompt");
  g->add_option("-m,--model", o->model, "GGUF file or Hugging Face model directory")->required();
  g->add_option("-p,--prompt", o->prompt, "Prompt text");
  g->add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
  g->add_option("-n,--n-predict", o->n_predict, "Tokens to generate (default 128)");
  g->add_option("-c,--ctx", o->n_ctx, "Context size (default: prompt + n, capped by the model)");
  g->add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  g->add_option("--temp", o->sampling.temperature, "Temperature; 0 = greedy (default 0.8)");
  g->add_option("--top-k", o->sampling.top_k, "Top-k, 0 = off (default 40)");
  g->add_option("--top-p", o->sampling.top_p, "Top-p, 1 = off (default 0.95)");
  g->add_option("--min-p", o->sampling.min_p, "Min-p, 0 = off (default 0.05)");
  g->add_option("--repeat-penalty", o->sampling.repeat_penalty, "Repetition penalty, 1 = off (default 1)");
  g->add_option("--repeat-last-n", o->sampling.repeat_last_n, "Tokens the penalty looks back (default 64)");
  g->add_option("--seed", o->sampling.seed, "Random seed (default 42)");
  g->add_flag("--chat", o->chat, "Wrap the prompt in the model's chat template");
  g->add_option("--system", o->system, "System message for --chat");
  g->add_flag("--json", o->json, "Print one JSON object instead of streaming text");
  g->add_option("--profile", o->profile, "Write the per-kernel profile (JSON) to this file");
  g->add_option("--kv-type", o->kv_type, "KV cache number format: f16 or f32 (default f16)");
  g->add_option("--tune", o->tune, "Kernel settings NAME=V[,NAME=V] (src/kernels/tuning.h; default: the measured ones)");
  g->add_option("--spec", o->spec_mode, "Speculative decoding: none, chain, tree or staged (default none)");
  g->add_option("-d,--draft", o->spec.draft_path,
                "Draft model (same tokenizer) or draft head (docs/DRAFT_HEADS.md) for --spec chain|tree|staged");
  g->add_option("--draft-len", o->spec.draft_len, "Draft depth K: chain length / deepest tree level (default 12)");
  g->add_option("--tree-size", o->spec.tree_size, "Candidates per tree N, root excluded (default 16)");
  g->add_option("--tree-width", o->spec.tree_width, "Children considered per tree node W (default 4)");
  g->add_option("--tree-shape", o->spec.tree_shape, "Tree shape for --spec tree: dynamic or sparse (default dynamic)");
  g->add_option("--ngram-corpus", o->spec.ngram_corpus, "Text file whose n-grams feed the trigram drafter");
  g->add_flag("--head", o->spec.shipped_head,
              "Draft with the model's shipped draft head (heads/; an error when none matches), in any --spec mode");
  g->add_option("--tree-adapt", o->tree_adapt,
                "on: verify only the part of each drafted tree worth its measured cost; off: all of it (default on)");
  g->callback([o] {
    if (o->prompt.empty() && o->prompt_file.empty()) fail("generate: give a prompt with -p TEXT or -f FILE");
    if (!o->prompt.empty() && !o->prompt_file.empty()) fail("generate: -p and -f are exclusive; give one");
    run_generate(*o);
  });
}

}  // namespace rooflm::cli
