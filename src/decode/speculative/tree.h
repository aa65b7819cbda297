// A draft token tree: what a drafter proposes and one target forward verifies.
//
// Node 0 is the root: the pending token (sampled by the target, not yet in its KV cache).
// Every other node is a draft candidate whose parent is an earlier node, so the node list
// is already in the order Session::forward wants (parent -1 for the root, j < i otherwise).
// Children of a node are tried by the verifier in insertion order, so drafters add the
// most likely child first.
//
// Each candidate says how it was drawn, which lossless verification needs:
//   - deterministic (q_index = -1): the drafter picked the token without randomness (n-gram
//     top-k, greedy or top-k of a draft model). Its "q" is one-hot on the token; siblings
//     chosen this way are distinct and proposed without replacement.
//   - sampled (q_index >= 0): the token was drawn from the dense distribution dist(q_index),
//     independently of the earlier siblings (i.i.d. siblings share one distribution).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rooflm::spec {

class DraftTree {
 public:
  // Starts a tree holding only the root token.
  void reset(int32_t root_token);

  int size() const { return (int)tokens_.size(); }
  int32_t token(int i) const { return tokens_[(size_t)i]; }
  int32_t parent(int i) const { return parents_[(size_t)i]; }  // -1 for the root
  int depth(int i) const { return depth_[(size_t)i]; }
  float score(int i) const { return score_[(size_t)i]; }       // cumulative draft probability
  int q_index(int i) const { return q_index_[(size_t)i]; }
  int max_depth() const;

  // Adds a child of `parent` (an existing node); returns its index.
  int add(int parent, int32_t token, float score = 0.0f, int q_index = -1);
  // A dense draft distribution of n_vocab floats, to be filled by the caller; returns its
  // index for add(). Buffers are reused across reset() calls.
  int new_dist(int64_t n_vocab);
  float* dist(int q) { return dists_[(size_t)q].data(); }
  const float* dist(int q) const { return dists_[(size_t)q].data(); }

  // Keeps the first n nodes (n >= 1); valid because parents precede their children.
  void truncate(int n);

  // Children of node i in insertion order.
  const std::vector<int32_t>& children(int i) const;
  // Child of i with this token, or -1.
  int find_child(int i, int32_t token) const;
  // Node indices from the first node under the root down to i (root excluded).
  std::vector<int32_t> path_to(int i) const;

  // Forward-pass view: tokens and parents (root's parent is -1).
  const std::vector<int32_t>& tokens() const { return tokens_; }
  const std::vector<int32_t>& parents() const { return parents_; }

 private:
  std::vector<int32_t> tokens_, parents_, depth_, q_index_;
  std::vector<float> score_;
  mutable std::vector<std::vector<int32_t>> children_;
  std::vector<std::vector<float>> dists_;
  int n_dists_ = 0;
};

}  // namespace rooflm::spec
