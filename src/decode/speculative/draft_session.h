// A draft model's Session kept in sync with the target's context: the draft commits what it
// runs (its own guesses included) and, before each proposal, truncates back to the longest
// common prefix with the real context and runs what it is missing.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/threadpool.h"
#include "decode/speculative/tree_builder.h"
#include "model/model.h"
#include "model/session.h"

namespace rooflm::spec {

// Throws Error naming `option` unless the two models share the tokenizer vocabulary (same
// tokens in the same order) and the same logit width.
void check_same_vocab(const Model& target, const Model& draft, const char* option);

class DraftSession {
 public:
  DraftSession(const Model& draft, const SessionOptions& opts, ThreadPool& pool);

  Session& session() { return *session_; }
  const Model& model() const { return model_; }
  int64_t forwards() const { return forwards_; }

  // Truncates the committed tokens to their longest common prefix with context[0, keep).
  void rollback(const std::vector<int32_t>& context, int64_t keep);
  // Runs and commits context[n_past, end) (at least one token: the caller rolls back to at
  // most context.size() - 1) and returns the last token's logits.
  const float* catch_up(const std::vector<int32_t>& context);
  // Session::decode (commits the token), counted.
  const float* decode(int32_t token);
  // Session::forward, counted.
  const float* forward(const int32_t* tokens, const int32_t* parents, int n, bool all_logits);

 private:
  const Model& model_;
  std::unique_ptr<Session> session_;
  int64_t forwards_ = 0;
};

// The batch of a draft forward over part of a tree: the non-root nodes on the paths to `nodes`
// (the nodes and their ancestors, which the rows attend to), in tree order. tokens/parents are
// what Session::forward takes (-1: the root's place, the committed context); row_of[i] is tree
// node i's row, or -1.
void partial_tree_batch(const DraftTree& tree, const std::vector<int32_t>& nodes, std::vector<int32_t>& tokens,
                        std::vector<int32_t>& parents, std::vector<int32_t>& row_of);

// Top-`k` tokens of softmax(logits) (temperature 1), most likely first.
void top_softmax(const float* logits, int64_t n_vocab, int k, std::vector<Candidate>& out);
// softmax(logits)[token].
float softmax_at(const float* logits, int64_t n_vocab, int32_t token);

}  // namespace rooflm::spec
