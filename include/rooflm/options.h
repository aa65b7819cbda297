// The option structs of the public API (rooflm/rooflm.h): plain data with documented defaults.
// The library validates them where they are used and throws rooflm::Error naming the field
// ("SpecOptions::tree_size") and the value. The library's internals use these same structs.
#pragma once
#include <cstdint>
#include <string>

namespace rooflm::api {

struct ModelOptions {
  // Worker threads for this model's forward passes (a pool owned by the model, shared by its
  // sessions and generations). 0 = one per hardware thread. Error when above 1024.
  int n_threads = 0;
};

// Number format of the KV cache.
enum class KvType {
  F16,  // half the memory and half the attention traffic of F32 (as llama.cpp)
  F32,
};

struct SessionOptions {
  int64_t n_ctx = 2048;         // KV cache rows, clamped to the model's training context; >= 1
  int max_batch = 512;          // nodes per forward(); prefill() splits longer prompts; >= 1
  int max_logits = 128;         // nodes per forward() whose logits can be requested; >= 1
  KvType kv_type = KvType::F16;
};

// Token sampling. Order as in Hugging Face generate: repetition penalty on the raw logits,
// then temperature, then top-k, top-p and min-p. A seed gives the same tokens on every platform.
struct SamplerOptions {
  float temperature = 0.8f;     // >= 0; 0 = greedy (argmax after the penalty)
  int top_k = 40;               // >= 0; 0 = off
  float top_p = 0.95f;          // in (0, 1]; 1 = off
  float min_p = 0.05f;          // in [0, 1); 0 = off
  float repeat_penalty = 1.0f;  // > 0; 1 = off
  int repeat_last_n = 64;       // >= 0; tokens of history the penalty looks at
  uint64_t seed = 42;

  bool greedy() const { return temperature <= 0.0f; }
  bool penalizes() const { return repeat_penalty != 1.0f && repeat_last_n != 0; }
  void validate() const;        // throws Error naming the field and value
};

// Speculative decoding: a drafter proposes a tree of tokens, one target forward verifies it.
//
//   mode     with draft_path                        without a draft model
//   Chain    draft model chain of draft_len         n-gram chain (prompt lookup + Katz)
//   Tree     draft-model tree (dynamic or sparse)   Katz trigram tree (dynamic or sparse)
//   Staged   draft model sped up by n-grams         prompt lookup + Katz trigram tree
// draft_path may also name a draft head (docs/DRAFT_HEADS.md), which drafts from the target's
// own features. Under greedy sampling every mode gives exactly the tokens of plain decoding.
enum class SpecMode { None, Chain, Tree, Staged };

struct SpecOptions {
  SpecMode mode = SpecMode::None;      // None = plain autoregressive decoding
  std::string draft_path;              // a draft model or draft head (.gguf / HF dir); "" = n-grams
  int draft_len = 12;                  // deepest candidate, 1..511 (12 catches long verbatim repeats)
  int tree_size = 16;                  // candidates per tree, root excluded, 1..511 (Chain uses draft_len)
  int tree_width = 4;                  // children per node, 1..64
  std::string tree_shape = "dynamic";  // "dynamic" (by probability) or "sparse" (fixed shape)
  std::string ngram_corpus;            // text file whose n-grams seed the n-gram drafter; "" = none
  bool adaptive = true;                // verify only the prefix of the tree worth its cost
  bool shipped_head = false;           // draft with the model's shipped head (heads/ or ROOFLM_HEADS)

  void validate() const;               // ranges and combinations; throws Error naming the field
};

struct GenerateOptions {
  int64_t n_predict = 128;  // tokens to generate at most; >= 0
  // KV cache size; 0 = prompt + n_predict rounded up to 256, capped by the model. A value below
  // prompt + n_predict is allowed: generation then stops when the cache is full ("context").
  int64_t n_ctx = 0;
  KvType kv_type = KvType::F16;
  SamplerOptions sampling;
  SpecOptions spec;
};

}  // namespace rooflm::api
