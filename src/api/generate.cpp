// api::generate: one generation, plain or speculative, through decode/run.h's run_generation.
#include "api/access.h"
#include "core/error.h"
#include "decode/run.h"

namespace rooflm::api {

GenerateResult generate(const Model& model, const std::vector<int32_t>& prompt, const GenerateOptions& opts,
                        const TokenCallback& on_token) {
  if (opts.n_predict < 0) fail("GenerateOptions::n_predict: expected a number of tokens >= 0, got ", opts.n_predict);
  if (opts.n_ctx < 0) fail("GenerateOptions::n_ctx: expected 0 (automatic) or a number of tokens, got ", opts.n_ctx);
  if (prompt.empty()) fail("generate: the prompt has no tokens");
  opts.sampling.validate();
  const rooflm::Model& m = Access::model(model);
  const int64_t n_ctx = context_for(m.config(), (int64_t)prompt.size(), opts.n_predict, opts.n_ctx);
  const GenerationRun run = run_generation(m, Access::pool(model), prompt, opts.n_predict, n_ctx, opts.sampling,
                                           opts.spec, on_token, dtype_of(opts.kv_type));
  GenerateResult r;
  r.tokens = run.result.tokens;
  r.n_prompt = run.result.n_prompt;
  r.stop_reason = run.result.stop_reason;
  r.prefill_ms = run.result.prefill_ms;
  r.decode_ms = run.result.decode_ms;
  r.target_steps = run.result.target_steps;
  r.draft_accepted = run.stats.accepted;
  r.drafter = run.drafter;
  return r;
}

}  // namespace rooflm::api
