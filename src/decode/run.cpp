#include "decode/run.h"

#include <algorithm>

#include "core/error.h"
#include "model/session.h"

namespace rooflm {

std::string chat_prompt(const Tokenizer& tok, const std::string& text, const std::string& system) {
  std::vector<ChatMessage> msgs;
  if (!system.empty()) msgs.push_back({"system", system});
  msgs.push_back({"user", text});
  return tok.apply_chat_template(msgs, true);
}

std::vector<int32_t> encode_prompt(const Tokenizer& tok, const std::string& text, bool chat, const std::string& system) {
  if (!chat) return tok.encode(text, true, false);
  return tok.encode(chat_prompt(tok, text, system), false, true);  // templates write BOS
}

int64_t context_for(const ModelConfig& cfg, int64_t n_prompt, int64_t n_predict, int64_t n_ctx_flag) {
  const int64_t need = n_prompt + n_predict;
  if (n_prompt > cfg.n_ctx_train)
    fail("prompt of ", n_prompt, " tokens is longer than the model's context of ", cfg.n_ctx_train, " tokens");
  if (need > cfg.n_ctx_train)
    fail("GenerateOptions::n_predict ", n_predict, ": prompt (", n_prompt, " tokens) + ", n_predict,
         " new tokens exceed the model's context of ", cfg.n_ctx_train, " tokens");
  const int64_t n_ctx = n_ctx_flag > 0 ? n_ctx_flag : std::min<int64_t>(cfg.n_ctx_train, (need + 255) / 256 * 256);
  // An explicit n_ctx below prompt + n is honoured: generation stops when the cache is full, with
  // stop reason "context" (the prompt itself must fit).
  if (n_ctx < n_prompt)
    fail("GenerateOptions::n_ctx ", n_ctx_flag, ": the prompt (", n_prompt, " tokens) does not fit a context of ", n_ctx,
         " tokens");
  return n_ctx;
}

DType kv_type_from_name(const std::string& name, const char* what) {
  if (name == "f16") return DType::F16;
  if (name == "f32") return DType::F32;
  fail(what, ": expected f16 or f32, got '", name, "'");
}

GenerationRun run_generation(const Model& model, ThreadPool& pool, const std::vector<int32_t>& prompt,
                             int64_t n_predict, int64_t n_ctx, const SamplerParams& sampling,
                             const spec::SpecConfig& cfg, const TokenCallback& on_token, DType kv_type) {
  spec::SpecSetup setup = spec::make_spec(cfg, model, sampling, n_ctx, pool);
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.max_logits = setup.max_logits;
  so.kv_type = kv_type;
  so.keep_features = setup.target_features;
  Session session(model, so, pool);
  Sampler sampler(sampling, model.config().n_vocab);

  GenerationRun run;
  run.result = setup.drafter ? spec::generate_speculative(session, sampler, *setup.drafter, setup.limits, prompt,
                                                          n_predict, on_token, &run.stats)
                             : generate_autoregressive(session, sampler, prompt, n_predict, on_token);
  if (setup.drafter) run.drafter = setup.drafter->name();
  run.limits = setup.limits;
  run.limits.budget = nullptr;  // owned by setup, which dies here
  run.n_ctx = session.n_ctx();
  run.kv_bytes = session.kv_bytes();
  return run;
}

}  // namespace rooflm
