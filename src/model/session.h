// A Session is one sequence being decoded: the KV cache and the activation buffers, all
// allocated once up front, so the decode loop allocates nothing.
//
// One forward pass serves every shape. A batch is a list of nodes, each a token with a
// parent: -1 means "follows the last committed token", j (< i) means "follows batch node j".
// A chain is a prompt, one node is a decode step, a tree is speculative verification.
// Node i sits at position n_past + depth(i) and attends to the committed cache plus its own
// ancestors. forward() writes the batch's K/V into scratch rows after the committed ones;
// commit(path) keeps the accepted nodes' K/V (moving them into place) and drops the rest.
#pragma once
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/threadpool.h"
#include "kernels/attention.h"
#include "model/model.h"

namespace rooflm {

struct SessionOptions {
  int64_t n_ctx = 2048;     // KV cache rows (clamped to the model's training context)
  int max_batch = 512;      // nodes per forward (longer prompts are processed in chunks)
  int max_logits = 128;     // nodes per forward whose logits can be requested
  // KV cache number format: F16 (default, as llama.cpp: half the memory and half the
  // attention traffic at long contexts) or F32.
  DType kv_type = DType::F16;
  // Keep every row's final feature (the normalized hidden state the output matrix reads),
  // for the last forward and for every committed position: what a draft head drafts from.
  bool keep_features = false;
};

class Session {
 public:
  Session(const Model& model, const SessionOptions& opts, ThreadPool& pool);

  const Model& model() const { return model_; }
  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return n_ctx_; }
  int max_batch() const { return max_batch_; }
  int max_logits() const { return max_logits_; }
  int64_t n_vocab() const { return model_.config().n_vocab; }
  int64_t n_logits() const { return model_.config().n_logits(); }  // logits per row
  const std::vector<int32_t>& tokens() const { return tokens_; }  // committed tokens
  size_t kv_bytes() const { return kv_.size(); }
  DType kv_type() const { return kv_type_; }
  size_t buffer_bytes() const;  // everything this session allocated

  // Runs the batch. With all_logits, returns n x n_logits() logits (row i = node i); otherwise
  // the last node's. The pointer is valid until the next forward(). A draft head's model also
  // reads one target feature per node (n x n_embd, `features_in`).
  const float* forward(const int32_t* tokens, const int32_t* parents, int n, bool all_logits,
                       const float* features_in = nullptr);
  // keep_features: the last forward's features (row i = node i, n_embd each; valid until the
  // next forward) and those of committed position `pos`.
  const float* features() const { return xn_.data(); }
  const float* committed_feature(int64_t pos) const;
  bool keeps_features() const { return keep_features_; }

  // Keeps the K/V of the given batch nodes of the last forward (a root-to-leaf path, in
  // order) as the next committed tokens.
  void commit(const std::vector<int32_t>& path);
  // Drops committed tokens after the first n (e.g. a drafter rolling back).
  void truncate(int64_t n);

  // Conveniences built on forward/commit: a chain of tokens (in chunks of max_batch) that
  // is committed; returns the last node's logits.
  const float* prefill(const std::vector<int32_t>& tokens);
  const float* decode(int32_t token);

 private:
  void layer(int64_t il, int n);
  void attention_overlapped(const AttentionArgs& a, const LayerWeights& L);  // see session.cpp
  void prefetch_kv(int64_t il, int n);  // layer il's cached K/V rows towards L2 (see session.cpp)
  // Layer il's K cache: key tiles of 16 rows (attention.h, k_tile_offset); its V cache: rows.
  uint8_t* k_tiles(int64_t il) { return kv_.data() + (il * 2) * kv_rows_ * kv_row_bytes_; }
  uint8_t* v_row(int64_t il, int64_t row) { return kv_.data() + ((il * 2 + 1) * kv_rows_ + row) * kv_row_bytes_; }
  void store_k(int64_t il, int64_t row, const float* src);
  void store_v(int64_t il, int64_t row, const float* src);
  void copy_kv_row(int64_t il, int64_t dst, int64_t src);

  const Model& model_;
  ThreadPool& pool_;
  int64_t n_ctx_;
  int max_batch_;
  int max_logits_;
  int64_t kv_dim_;
  DType kv_type_;
  size_t kv_row_bytes_;                // kv_dim_ values of kv_type_
  int64_t kv_rows_;                    // rows per layer of K and of V: n_ctx_ in whole key tiles
  int64_t n_past_ = 0;
  int last_n_ = 0;                     // nodes in the last forward (for commit)
  std::vector<int32_t> tokens_;
  std::vector<int32_t> last_tokens_;

  std::vector<uint8_t> kv_;            // [layer][K|V][n_ctx][kv_dim] of kv_type_
  std::vector<float> x_, xn_, q_, k_, v_, qkv_, att_, proj_, ff_a_, ff_b_, logits_;
  std::vector<float> rope_cos_, rope_sin_, rope_cos_local_, rope_sin_local_;
  std::vector<int32_t> positions_, visible_, visible_begin_, depth_;
  std::vector<float> att_scratch_;
  bool keep_features_ = false;
  std::vector<float> committed_features_;  // keep_features: [n_ctx][n_embd]
  std::vector<float> head_in_;             // draft heads: [max_batch][2 n_embd] fc input
  std::vector<float> row_tmp_;
};

}  // namespace rooflm
