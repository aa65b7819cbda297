// Prompt lookup: the context often repeats itself (code, quoted text, lists). Match the last
// tokens of a node's context (committed context + draft path) against earlier positions of
// the committed context (and of optional documents, e.g. the n-gram corpus) and propose the
// tokens that followed.
//
// For a query suffix s, every earlier position j with ctx[j] == s.back() and a successor
// ctx[j+1] is scored by its match length m (how many tokens of s end at j, up to
// max_match). Among the positions with the longest match m* >= min_match, successors are
// counted (ties: the most recent occurrence first); the distribution over them is scaled
// by a confidence conf(m*) = m* / (m* + 1.5), capped at 0.95.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "decode/speculative/tree_builder.h"

namespace rooflm::spec {

class PromptLookup {
 public:
  PromptLookup(int min_match = 1, int max_match = 16, int doc_min_match = 8)
      : min_match_(min_match), max_match_(max_match), doc_min_match_(doc_min_match) {}

  // Adds documents (e.g. an n-gram corpus) that are searched along with the context.
  void add_documents(const std::vector<std::vector<int32_t>>& docs);
  // Makes `ctx` the indexed context; cheap when it extends the previous one.
  void sync(const std::vector<int32_t>& ctx);

  // Candidates after ctx + path (path: draft tokens below the end of ctx), at most k,
  // most likely first. Returns the longest match length found (0: none).
  int top(const std::vector<int32_t>& path, int k, std::vector<Candidate>& out) const;
  static float confidence(int m);

 private:
  int min_match_, max_match_, doc_min_match_;  // documents need longer matches than the context
  void index_from(size_t start);
  // all_ = documents (each followed by -1) then the context; n_docs_ = where the context starts.
  std::vector<int32_t> all_;
  size_t n_docs_ = 0;
  std::unordered_map<int32_t, std::vector<int32_t>> pos_;  // token -> positions in all_, ascending
};

}  // namespace rooflm::spec
