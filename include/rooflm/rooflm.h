// rooflm: LLM inference on the CPU with speculative decoding.
//
//   #include <rooflm/rooflm.h>
//   auto model = rooflm::api::Model::load("SmolLM2-135M-Instruct.Q4_1.gguf");
//   rooflm::api::GenerateOptions o;
//   o.sampling.temperature = 0;                    // greedy
//   o.spec.mode = rooflm::api::SpecMode::Staged;   // speculation: same tokens, fewer forwards
//   auto r = rooflm::api::generate(model, model.chat_prompt("Hi"), o);
//
// Errors: every function here throws rooflm::Error (rooflm/error.h) with a message that names
// the file, option field and value; std::bad_alloc when memory runs out. Nothing here exposes
// global state: a Model owns its thread pool, a Session its KV cache. (Inside, the kernel tuning
// and the profiler are still process-wide; the API leaves them at their defaults.)
// Threads: a Model and everything made from it (sessions, samplers, generations) is used by one
// thread at a time; separate models may run on separate threads, and so may handles made by
// Model::with_threads (they share the weights, each has its own thread pool).
// (The public names live in rooflm::api because the library's internals own rooflm::Model.)
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rooflm/error.h"
#include "rooflm/options.h"

namespace rooflm::api {

struct Access;  // the library's own view of the handles below (src/api/access.h)

// One turn of a conversation: role "system", "user" or "assistant".
struct ChatMessage {
  std::string role, content;
};

// A loaded model: weights (mapped from the file, used in place), tokenizer, thread pool.
// A cheap handle: copies share the same model, which lives as long as any copy or session.
class Model {
 public:
  // `path`: a .gguf file (llama, qwen2, gpt2 or gemma3 architecture) or a Hugging Face model
  // directory (config.json, *.safetensors, tokenizer files). Throws Error when the file is
  // missing or malformed, the architecture or a tensor type is unsupported, the file is a draft
  // head (name those in SpecOptions::draft_path), or ModelOptions::n_threads is out of range.
  static Model load(const std::string& path, const ModelOptions& opts = {});

  std::string arch() const;          // "llama", "qwen2", "gpt2", "gemma3"
  std::string name() const;          // general.name, or the directory name
  int64_t n_vocab() const;
  int64_t n_ctx_train() const;       // the longest context the model supports
  int n_threads() const;

  // Text -> token ids. add_bos: the model's BOS when its tokenizer adds one. parse_special:
  // match control tokens (e.g. <|im_start|>) written in the text.
  std::vector<int32_t> tokenize(const std::string& text, bool add_bos = true, bool parse_special = false) const;
  // One user turn (after a system turn when `system` is not empty) in the model's chat template,
  // ending with the assistant's generation prompt. Throws Error when the model has no template.
  std::vector<int32_t> chat_prompt(const std::string& user, const std::string& system = "") const;
  // A whole conversation in the chat template, ending with the assistant's generation prompt.
  // Throws Error when the model has no template or a role is not one the template knows.
  std::vector<int32_t> chat_prompt(const std::vector<ChatMessage>& messages) const;
  // The bytes of one token (may be part of a UTF-8 character: see TextStream) and of many.
  std::string token_text(int32_t id) const;
  std::string detokenize(const std::vector<int32_t>& ids) const;
  bool is_end_of_generation(int32_t id) const;  // EOS, EOT, end-of-turn

  // Another handle on the same weights (no copy, no reload) with its own pool of n_threads
  // workers (0 = one per hardware thread): generations on handles with separate pools may run on
  // separate threads at once (a server's parallel slots). Throws Error when n_threads is out of range.
  Model with_threads(int n_threads) const;

 private:
  struct Impl;
  explicit Model(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
  friend struct Access;
};

// Turns a stream of tokens into text that never ends in half a UTF-8 character.
class TextStream {
 public:
  explicit TextStream(const Model& model);
  ~TextStream();
  TextStream(TextStream&&) noexcept;
  TextStream& operator=(TextStream&&) noexcept;
  std::string push(int32_t token);  // the complete characters so far
  std::string flush();              // whatever is left (invalid bytes passed through)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One sequence being decoded: its KV cache and buffers, allocated once at construction.
//
// A batch is a list of nodes, each a token with a parent: -1 follows the last committed token,
// j (< i) follows batch node j. A chain is a prompt, one node is a decode step, a tree is a
// speculative verification. forward() computes the batch without committing it; commit(path)
// keeps the K/V of a root-to-leaf path of the last batch and drops the rest.
class Session {
 public:
  // Throws Error when a SessionOptions field is out of range or the KV cache would not fit in
  // the available memory.
  explicit Session(const Model& model, const SessionOptions& opts = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  int64_t n_past() const;                      // committed tokens
  int64_t n_ctx() const;
  int64_t n_vocab() const;                     // logits per row
  const std::vector<int32_t>& tokens() const;  // the committed tokens

  // Runs a batch of tokens.size() == parents.size() nodes (1..max_batch). Returns n x n_vocab
  // logits when all_logits (n <= max_logits), else the last node's; valid until the next call.
  // Throws Error on a token outside the vocabulary, a bad parent, or a full context.
  std::span<const float> forward(std::span<const int32_t> tokens, std::span<const int32_t> parents,
                                 bool all_logits = false);
  // Commits the given nodes of the last forward (a root-to-leaf path, in order).
  void commit(const std::vector<int32_t>& path);
  // Drops committed tokens after the first n.
  void truncate(int64_t n);

  // forward + commit of a chain (in chunks of max_batch); return the last node's logits.
  std::span<const float> prefill(const std::vector<int32_t>& tokens);
  std::span<const float> decode(int32_t token);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend struct Access;
};

// Draws tokens from logits as SamplerOptions says; seeded, so runs repeat exactly.
class Sampler {
 public:
  // Throws Error naming the SamplerOptions field that is out of range.
  Sampler(const SamplerOptions& opts, int64_t n_vocab);
  ~Sampler();
  Sampler(Sampler&&) noexcept;
  Sampler& operator=(Sampler&&) noexcept;

  // `logits`: n_vocab values; `history`: the tokens so far (for the repetition penalty).
  int32_t sample(std::span<const float> logits, const std::vector<int32_t>& history);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (prompt and stop token excluded)
  int64_t n_prompt = 0;
  std::string stop_reason;      // "eos", "length" (n_predict reached), "context" (cache full)
  double prefill_ms = 0;
  double decode_ms = 0;
  int64_t target_steps = 0;     // target forward passes after the prompt
  int64_t draft_accepted = 0;   // speculative: draft tokens the target accepted
  std::string drafter;          // speculative: the drafter's name; "" for plain decoding
};

// Called with each token as it is accepted, in order. To stop a generation early (a stop string,
// a client gone), throw from the callback: the exception leaves generate() at once, and the
// generation's session and drafter are freed on the way out.
using TokenCallback = std::function<void(int32_t)>;

// Generates after `prompt` (ids, e.g. from Model::chat_prompt) in a fresh session: plain
// decoding when opts.spec.mode is None, else speculative (same tokens under greedy sampling).
// Throws Error naming the GenerateOptions/SamplerOptions/SpecOptions field that is invalid,
// when the prompt is empty or does not fit the context, or when a draft model does not match.
GenerateResult generate(const Model& model, const std::vector<int32_t>& prompt, const GenerateOptions& opts = {},
                        const TokenCallback& on_token = nullptr);

}  // namespace rooflm::api
