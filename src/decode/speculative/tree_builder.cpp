#include "decode/speculative/tree_builder.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <queue>

#include "core/error.h"

namespace rooflm::spec {

TreeShape tree_shape_from_name(const std::string& name) {
  if (name == "chain") return TreeShape::Chain;
  if (name == "sparse") return TreeShape::Sparse;
  if (name == "dynamic") return TreeShape::Dynamic;
  fail("tree shape: expected chain, sparse or dynamic, got '", name, "'");
}

const char* tree_shape_name(TreeShape s) {
  switch (s) {
    case TreeShape::Chain: return "chain";
    case TreeShape::Sparse: return "sparse";
    case TreeShape::Dynamic: return "dynamic";
  }
  return "?";
}

std::vector<std::vector<int>> sparse_shape(int depth, int width, int size) {
  std::vector<std::vector<int>> out;
  if (depth < 1 || width < 1 || size < 1) return out;
  struct Item {
    double score;
    std::vector<int> path;
    bool operator<(const Item& o) const {  // max-heap: higher score, then shorter, then lexicographic
      if (score != o.score) return score < o.score;
      if (path.size() != o.path.size()) return path.size() > o.path.size();
      return path > o.path;
    }
  };
  auto prior = [](int r) { return 0.6 * std::pow(0.35, r); };
  std::priority_queue<Item> heap;
  for (int r = 0; r < width; r++) heap.push({prior(r), {r}});
  while (!heap.empty() && (int)out.size() < size) {
    Item it = heap.top();
    heap.pop();
    out.push_back(it.path);
    if ((int)it.path.size() < depth)
      for (int r = 0; r < width; r++) {
        Item c{it.score * prior(r), it.path};
        c.path.push_back(r);
        heap.push(std::move(c));
      }
  }
  return out;
}

namespace {

void build_sparse(CandidateSource& src, int depth, int width, int size, DraftTree& tree) {
  const std::vector<std::vector<int>> shape = sparse_shape(depth, width, size);
  // Shape node k -> tree node (or -1 when the source had no candidate of that rank).
  std::map<std::vector<int>, int> node_of;
  node_of[{}] = 0;
  std::vector<std::vector<Candidate>> cands;
  for (int d = 1; d <= depth; d++) {
    // Parents at depth d-1 that the shape extends, with the widest rank each needs.
    std::vector<int32_t> parents;
    std::map<int, int> need;  // tree node -> max rank + 1
    for (const auto& p : shape) {
      if ((int)p.size() != d) continue;
      std::vector<int> pre(p.begin(), p.end() - 1);
      auto it = node_of.find(pre);
      if (it == node_of.end() || it->second < 0) continue;
      int& n = need[it->second];
      if (n == 0) parents.push_back(it->second);
      n = std::max(n, p.back() + 1);
    }
    if (parents.empty()) break;
    int w = 0;
    for (auto& [node, n] : need) w = std::max(w, n);
    src.expand(tree, parents, w, cands);
    std::map<int, size_t> slot;
    for (size_t i = 0; i < parents.size(); i++) slot[parents[i]] = i;
    for (const auto& p : shape) {
      if ((int)p.size() != d) continue;
      std::vector<int> pre(p.begin(), p.end() - 1);
      auto it = node_of.find(pre);
      int child = -1;
      if (it != node_of.end() && it->second >= 0) {
        const auto& c = cands[slot[it->second]];
        const int r = p.back();
        if (r < (int)c.size() && c[(size_t)r].prob > 0)
          child = tree.add(it->second, c[(size_t)r].token, tree.score(it->second) * c[(size_t)r].prob);
      }
      node_of[p] = child;
    }
  }
}

void build_dynamic(CandidateSource& src, int depth, int width, int size, int batch, DraftTree& tree) {
  struct Cand {
    float score;
    int parent;
    int32_t token;
    int order;  // insertion order breaks ties: stable, parents' earlier candidates first
    bool operator<(const Cand& o) const { return score != o.score ? score < o.score : order > o.order; }
  };
  std::priority_queue<Cand> heap;
  int order = 0;
  const int limit = tree.size() + size;
  std::vector<int32_t> pending;
  for (int i = 0; i < tree.size(); i++)
    if (tree.children(i).empty() && tree.depth(i) < depth) pending.push_back(i);
  std::vector<std::vector<Candidate>> cands;
  while (tree.size() < limit) {
    if (!pending.empty()) {
      src.expand(tree, pending, width, cands);
      for (size_t k = 0; k < pending.size(); k++)
        for (const Candidate& c : cands[k])
          if (c.prob > 0) heap.push({tree.score(pending[k]) * c.prob, pending[k], c.token, order++});
      pending.clear();
    }
    if (heap.empty()) break;
    for (int b = 0; b < batch && !heap.empty() && tree.size() < limit; b++) {
      const Cand c = heap.top();
      heap.pop();
      const int node = tree.add(c.parent, c.token, c.score);
      if (tree.depth(node) < depth) pending.push_back(node);
    }
  }
}

}  // namespace

void build_tree(CandidateSource& src, const TreeOptions& opt, DraftTree& tree) {
  if (opt.depth < 1 || opt.size < 1) return;
  switch (opt.shape) {
    case TreeShape::Chain:
      build_sparse(src, std::min(opt.depth, opt.size), 1, opt.size, tree);
      break;
    case TreeShape::Sparse:
      build_sparse(src, opt.depth, std::max(1, opt.width), opt.size, tree);
      break;
    case TreeShape::Dynamic:
      build_dynamic(src, opt.depth, std::max(1, opt.width), opt.size, std::max(1, opt.batch), tree);
      break;
  }
}

}  // namespace rooflm::spec
