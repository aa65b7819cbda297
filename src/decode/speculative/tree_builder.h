// Tree shapes: how a drafter turns "likely next tokens after this node" into a draft tree.
//
//   chain    the single most likely continuation, `depth` tokens deep;
//   sparse   a fixed Medusa-style shape: the `size` rank-paths (rank = position among a
//            node's top-`width` candidates) with the highest prior acceptance
//            prior(r) = 0.6 * 0.35^r per level, up to `depth` deep. The shape does not
//            depend on the draft's probabilities, only on the ranks;
//   dynamic  best-first expansion by cumulative draft probability (the product of the
//            draft probabilities along the path) up to `size` nodes and `depth` levels,
//            each node offering its top-`width` children. `batch` nodes are expanded per
//            source call (1 = exact best-first, what n-gram sources use; a draft model
//            expands a batch per forward pass).
//
// The shapes ask a CandidateSource for candidates of many nodes at once, so a model source
// can answer with one batched forward per call.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "decode/speculative/tree.h"

namespace rooflm::spec {

struct Candidate {
  int32_t token;
  float prob;  // draft probability of the token after the node
};

class CandidateSource {
 public:
  virtual ~CandidateSource() = default;
  // For each of `nodes` (existing nodes of `tree`), up to `width` distinct next tokens with
  // their probabilities, most likely first. out is resized to nodes.size().
  virtual void expand(const DraftTree& tree, const std::vector<int32_t>& nodes, int width,
                      std::vector<std::vector<Candidate>>& out) = 0;
};

enum class TreeShape { Chain, Sparse, Dynamic };
TreeShape tree_shape_from_name(const std::string& name);  // "chain", "sparse", "dynamic"
const char* tree_shape_name(TreeShape s);

struct TreeOptions {
  TreeShape shape = TreeShape::Dynamic;
  int depth = 8;   // deepest candidate level
  int width = 4;   // candidates per node considered (chain: 1)
  int size = 32;   // candidate nodes, root excluded
  int batch = 1;   // dynamic: nodes expanded per source call
};

// Rank paths of the sparse shape, parents before children (each path's prefix precedes it).
std::vector<std::vector<int>> sparse_shape(int depth, int width, int size);

// Grows `tree` (holding its root, possibly more) from the root by the chosen shape.
void build_tree(CandidateSource& src, const TreeOptions& opt, DraftTree& tree);

}  // namespace rooflm::spec
