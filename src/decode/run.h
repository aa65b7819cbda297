// One generation on a loaded model, in any speculative mode: what api::generate and
// `rooflm generate` do after reading their options, shared with `rooflm bench` (which runs it
// many times per model load).
//
//   chat_prompt        text -> the chat template's rendering of one user turn
//   encode_prompt      text -> ids, through the chat template or raw (BOS as the model wants)
//   context_for        the KV-cache size a run needs, checked against the model
//   run_generation     builds the drafter, Session and Sampler afresh (a run never sees state
//                      left by another), generates, and returns the result with its statistics
//
// The profiler is left to the caller: enable/reset it around run_generation to capture the run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/threadpool.h"
#include "decode/generate.h"
#include "decode/sampler.h"
#include "decode/speculative/spec_config.h"
#include "decode/speculative/speculative.h"
#include "model/model.h"

namespace rooflm {

// `text` as one user turn (after a system turn when `system` is not empty) in the model's
// chat template, ending with the assistant's generation prompt. Throws Error without a template.
std::string chat_prompt(const Tokenizer& tok, const std::string& text, const std::string& system = "");

// chat: chat_prompt(text) with its special tokens parsed and no BOS added (templates write
// BOS themselves). Otherwise the raw text with the model's BOS.
std::vector<int32_t> encode_prompt(const Tokenizer& tok, const std::string& text, bool chat,
                                   const std::string& system = "");

// Context for a prompt of n_prompt tokens + n_predict new ones: n_ctx_flag when > 0, else
// prompt + n rounded up to 256 and capped by the model. Errors name GenerateOptions::n_predict/n_ctx. Throws Error when prompt + n exceeds the
// model's context or the prompt exceeds n_ctx_flag; an n_ctx_flag below prompt + n is allowed
// (generation then stops when the context is full, stop reason "context").
int64_t context_for(const ModelConfig& cfg, int64_t n_prompt, int64_t n_predict, int64_t n_ctx_flag = 0);

struct GenerationRun {
  GenerateResult result;
  spec::SpecStats stats;        // speculative modes only
  std::string drafter;          // drafter name ("" for plain decoding)
  spec::SpecLimits limits;      // tree limits of the drafter (budget pointer not kept)
  int64_t n_ctx = 0;
  size_t kv_bytes = 0;
};

// cfg is validated (errors name the SpecOptions fields). Plain decoding when cfg.mode is None.
GenerationRun run_generation(const Model& model, ThreadPool& pool, const std::vector<int32_t>& prompt,
                             int64_t n_predict, int64_t n_ctx, const SamplerParams& sampling,
                             const spec::SpecConfig& cfg, const TokenCallback& on_token = nullptr,
                             DType kv_type = DType::F16);

// "f16" or "f32" as the Session's KV cache format; throws Error naming `what`.
DType kv_type_from_name(const std::string& name, const char* what = "SessionOptions::kv_type");

}  // namespace rooflm
