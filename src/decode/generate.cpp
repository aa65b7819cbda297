#include "decode/generate.h"

#include <chrono>

#include "roofline/profiler.h"

namespace rooflm {

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

GenerateResult generate_autoregressive(Session& session, Sampler& sampler, const std::vector<int32_t>& prompt,
                                       int64_t n_predict, const TokenCallback& on_token) {
  GenerateResult r;
  r.n_prompt = (int64_t)prompt.size();
  const Tokenizer& tok = session.model().tokenizer();
  prof::set_phase("init");
  auto t0 = std::chrono::steady_clock::now();
  const float* logits = session.prefill(prompt);
  r.prefill_ms = ms_since(t0);

  prof::set_phase("ar");
  r.tokens.reserve((size_t)n_predict);
  t0 = std::chrono::steady_clock::now();
  r.stop_reason = "length";
  for (int64_t i = 0; i < n_predict; i++) {
    const int32_t next = sampler.sample(logits, session.tokens());
    if (tok.is_eog(next)) {
      r.stop_reason = "eos";
      break;
    }
    r.tokens.push_back(next);
    if (on_token) on_token(next);
    // Every generated token gets its forward pass (also the last one, whose logits are not
    // needed): n tokens cost n steps, which keeps decode_tok_s conservative.
    if (session.n_past() + 1 > session.n_ctx()) {
      r.stop_reason = "context";
      break;
    }
    logits = session.decode(next);
    r.target_steps++;
  }
  r.decode_ms = ms_since(t0);
  return r;
}

std::string Utf8Stream::push(const std::string& bytes) {
  pending_ += bytes;
  // Find the end of the last complete character.
  size_t cut = pending_.size();
  for (size_t back = 1; back <= 4 && back <= pending_.size(); back++) {
    const unsigned char c = (unsigned char)pending_[pending_.size() - back];
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (need > back && c >= 0xC0 && c < 0xF8) cut = pending_.size() - back;  // incomplete tail
    break;
  }
  std::string out = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return out;
}

std::string Utf8Stream::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace rooflm
