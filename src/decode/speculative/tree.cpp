#include "decode/speculative/tree.h"

#include <algorithm>

#include "core/error.h"

namespace rooflm::spec {

void DraftTree::reset(int32_t root_token) {
  tokens_.assign(1, root_token);
  parents_.assign(1, -1);
  depth_.assign(1, 0);
  q_index_.assign(1, -1);
  score_.assign(1, 1.0f);
  for (auto& c : children_) c.clear();
  if (children_.empty()) children_.emplace_back();
  n_dists_ = 0;
}

int DraftTree::max_depth() const {
  int d = 0;
  for (int x : depth_) d = std::max(d, x);
  return d;
}

int DraftTree::add(int parent, int32_t token, float score, int q_index) {
  if (parent < 0 || parent >= size()) fail("draft tree: parent ", parent, " is not a node (size ", size(), ")");
  if (q_index >= n_dists_) fail("draft tree: distribution ", q_index, " does not exist");
  const int i = size();
  tokens_.push_back(token);
  parents_.push_back(parent);
  depth_.push_back(depth_[(size_t)parent] + 1);
  q_index_.push_back(q_index);
  score_.push_back(score);
  if ((int)children_.size() <= i) children_.emplace_back();
  children_[(size_t)i].clear();
  children_[(size_t)parent].push_back(i);
  return i;
}

int DraftTree::new_dist(int64_t n_vocab) {
  if ((int)dists_.size() <= n_dists_) dists_.emplace_back();
  dists_[(size_t)n_dists_].assign((size_t)n_vocab, 0.0f);
  return n_dists_++;
}

void DraftTree::truncate(int n) {
  if (n < 1 || n >= size()) return;
  tokens_.resize((size_t)n);
  parents_.resize((size_t)n);
  depth_.resize((size_t)n);
  q_index_.resize((size_t)n);
  score_.resize((size_t)n);
  for (int i = 0; i < n; i++) {
    auto& c = children_[(size_t)i];
    c.erase(std::remove_if(c.begin(), c.end(), [n](int32_t x) { return x >= n; }), c.end());
  }
}

const std::vector<int32_t>& DraftTree::children(int i) const { return children_[(size_t)i]; }

int DraftTree::find_child(int i, int32_t token) const {
  for (int32_t c : children_[(size_t)i])
    if (tokens_[(size_t)c] == token) return c;
  return -1;
}

std::vector<int32_t> DraftTree::path_to(int i) const {
  std::vector<int32_t> p;
  for (int j = i; j > 0; j = parents_[(size_t)j]) p.push_back(j);
  std::reverse(p.begin(), p.end());
  return p;
}

}  // namespace rooflm::spec
