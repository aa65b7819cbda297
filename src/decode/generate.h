// Plain autoregressive generation on a Session: prefill the prompt, then one token per
// forward pass. Speculative modes produce the same GenerateResult.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "decode/sampler.h"
#include "model/session.h"

namespace rooflm {

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (prompt excluded; the stop token excluded)
  int64_t n_prompt = 0;
  double prefill_ms = 0;
  double decode_ms = 0;         // from the first generated token's forward to the last
  std::string stop_reason;      // "eos", "length" (n reached), "context" (cache full)
  int64_t target_steps = 0;     // forward passes of the target model after prefill
};

// Called with each accepted token as it is produced.
using TokenCallback = std::function<void(int32_t)>;

GenerateResult generate_autoregressive(Session& session, Sampler& sampler, const std::vector<int32_t>& prompt,
                                       int64_t n_predict, const TokenCallback& on_token);

// Splits a byte stream into complete UTF-8 characters, so streamed text never prints half
// a character. Invalid bytes are passed through once it is clear they cannot complete.
class Utf8Stream {
 public:
  std::string push(const std::string& bytes);
  std::string flush();
 private:
  std::string pending_;
};

}  // namespace rooflm
