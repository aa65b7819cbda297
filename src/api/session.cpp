// api::Session and api::Sampler: handles over the internal Session and Sampler.
#include "api/access.h"
#include "core/error.h"

namespace rooflm::api {

struct Session::Impl {
  std::shared_ptr<Access::ModelImpl> model;  // outlives the session: declared first, destroyed last
  rooflm::Session session;
  Impl(const Model& m, const rooflm::SessionOptions& o)
      : model(Access::impl(m)), session(*model->model, o, *model->pool) {}
};

namespace {
rooflm::SessionOptions internal_options(const SessionOptions& o) {
  rooflm::SessionOptions s;
  s.n_ctx = o.n_ctx;
  s.max_batch = o.max_batch;
  s.max_logits = o.max_logits;
  s.kv_type = dtype_of(o.kv_type);
  return s;
}
}  // namespace

Session::Session(const Model& model, const SessionOptions& opts)
    : impl_(std::make_unique<Impl>(model, internal_options(opts))) {}
Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

int64_t Session::n_past() const { return impl_->session.n_past(); }
int64_t Session::n_ctx() const { return impl_->session.n_ctx(); }
int64_t Session::n_vocab() const { return impl_->session.n_logits(); }
const std::vector<int32_t>& Session::tokens() const { return impl_->session.tokens(); }

std::span<const float> Session::forward(std::span<const int32_t> tokens, std::span<const int32_t> parents,
                                        bool all_logits) {
  if (tokens.size() != parents.size())
    fail("Session::forward: ", tokens.size(), " tokens but ", parents.size(), " parents");
  const float* logits = impl_->session.forward(tokens.data(), parents.data(), (int)tokens.size(), all_logits);
  const size_t rows = all_logits ? tokens.size() : 1;
  return {logits, rows * (size_t)n_vocab()};
}

void Session::commit(const std::vector<int32_t>& path) { impl_->session.commit(path); }
void Session::truncate(int64_t n) { impl_->session.truncate(n); }

std::span<const float> Session::prefill(const std::vector<int32_t>& tokens) {
  return {impl_->session.prefill(tokens), (size_t)n_vocab()};
}
std::span<const float> Session::decode(int32_t token) { return {impl_->session.decode(token), (size_t)n_vocab()}; }

struct Sampler::Impl {
  rooflm::Sampler sampler;
  int64_t n_vocab;
};

Sampler::Sampler(const SamplerOptions& opts, int64_t n_vocab) {
  if (n_vocab < 1) fail("Sampler: n_vocab must be at least 1, got ", n_vocab);
  impl_ = std::make_unique<Impl>(Impl{rooflm::Sampler(opts, n_vocab), n_vocab});  // validates opts
}
Sampler::~Sampler() = default;
Sampler::Sampler(Sampler&&) noexcept = default;
Sampler& Sampler::operator=(Sampler&&) noexcept = default;

int32_t Sampler::sample(std::span<const float> logits, const std::vector<int32_t>& history) {
  if ((int64_t)logits.size() < impl_->n_vocab)
    fail("Sampler::sample: ", logits.size(), " logits for a vocabulary of ", impl_->n_vocab);
  return impl_->sampler.sample(logits.data(), history);
}

}  // namespace rooflm::api
