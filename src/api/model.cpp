// api::Model and api::TextStream: handles over the internal Model, its tokenizer and a thread pool.
#include <thread>

#include "api/access.h"
#include "core/error.h"
#include "decode/run.h"

namespace rooflm::api {

Model::Model(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

namespace {
std::unique_ptr<ThreadPool> make_pool(int n_threads, const char* what) {
  if (n_threads < 0 || n_threads > ThreadPool::kMaxThreads)
    fail(what, ": expected 0 (one per hardware thread) or 1..", ThreadPool::kMaxThreads, ", got ", n_threads);
  const int n = n_threads > 0 ? n_threads : (int)std::max(1u, std::thread::hardware_concurrency());
  return std::make_unique<ThreadPool>(n);
}
}  // namespace

Model Model::load(const std::string& path, const ModelOptions& opts) {
  auto pool = make_pool(opts.n_threads, "ModelOptions::n_threads");
  if (rooflm::Model::is_draft_head(path))
    fail(path, ": a draft head drafts for a target model; name it in SpecOptions::draft_path");
  auto impl = std::make_shared<Impl>();
  impl->model = rooflm::Model::load(path);
  impl->pool = std::move(pool);
  return Model(std::move(impl));
}

Model Model::with_threads(int n_threads) const {
  auto impl = std::make_shared<Impl>();
  impl->pool = make_pool(n_threads, "Model::with_threads: n_threads");
  impl->model = impl_->model;
  return Model(std::move(impl));
}

std::string Model::arch() const { return impl_->model->config().arch; }
std::string Model::name() const { return impl_->model->config().name; }
int64_t Model::n_vocab() const { return impl_->model->config().n_vocab; }
int64_t Model::n_ctx_train() const { return impl_->model->config().n_ctx_train; }
int Model::n_threads() const { return impl_->pool->size(); }

std::vector<int32_t> Model::tokenize(const std::string& text, bool add_bos, bool parse_special) const {
  return impl_->model->tokenizer().encode(text, add_bos, parse_special);
}

std::vector<int32_t> Model::chat_prompt(const std::string& user, const std::string& system) const {
  return encode_prompt(impl_->model->tokenizer(), user, true, system);
}

std::vector<int32_t> Model::chat_prompt(const std::vector<ChatMessage>& messages) const {
  std::vector<rooflm::ChatMessage> msgs;
  msgs.reserve(messages.size());
  for (const ChatMessage& m : messages) msgs.push_back({m.role, m.content});
  const Tokenizer& tok = impl_->model->tokenizer();
  return tok.encode(tok.apply_chat_template(msgs, true), false, true);  // templates write BOS
}

std::string Model::token_text(int32_t id) const { return impl_->model->tokenizer().token_piece(id); }
std::string Model::detokenize(const std::vector<int32_t>& ids) const { return impl_->model->tokenizer().decode(ids); }
bool Model::is_end_of_generation(int32_t id) const { return impl_->model->tokenizer().is_eog(id); }

struct TextStream::Impl {
  std::shared_ptr<Access::ModelImpl> model;  // keeps the tokenizer alive
  Utf8Stream utf8;
};

TextStream::TextStream(const Model& model) : impl_(std::make_unique<Impl>()) { impl_->model = Access::impl(model); }
TextStream::~TextStream() = default;
TextStream::TextStream(TextStream&&) noexcept = default;
TextStream& TextStream::operator=(TextStream&&) noexcept = default;

std::string TextStream::push(int32_t token) { return impl_->utf8.push(impl_->model->model->tokenizer().token_piece(token)); }
std::string TextStream::flush() { return impl_->utf8.flush(); }

}  // namespace rooflm::api
