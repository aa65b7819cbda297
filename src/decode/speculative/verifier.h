// Verification of a draft tree against the target's logits from one forward over it.
//
// Greedy (temp 0): walk from the root, at each node take the target's token (argmax after
// the repetition penalty, exactly what Sampler::sample returns); if a child carries it,
// accept that child and continue, else that token is the target's own next token.
//
// Sampling (lossless; SpecInfer's multi-step speculative sampling / recursive rejection
// sampling): at node u with target distribution p (Sampler::probabilities: penalty,
// temperature, top-k/top-p/min-p), try the children in order. Child x drawn from q is
// accepted with probability min(1, p(x)/q(x)); on rejection p <- norm(max(0, p - q)) and
// the next sibling is tried; when all are rejected the next token is drawn from the
// residual p. For a deterministic child q is one-hot on x: it is accepted with probability
// p(x) and the residual is p with x removed, renormalised. Each step outputs min(p, q_i)
// directly and otherwise the residual, so the result is distributed exactly as p as long
// as each child's token, given the earlier siblings, was drawn from its q_i independently
// of the verifier's coins: true for i.i.d. samples (same q for every sibling) and for
// distinct deterministic proposals (q_i = one-hot, which depends on the earlier siblings).
// Using the draft's dense distribution as q for tokens that were chosen deterministically
// (e.g. its top-k) would be wrong, and tests/test_spec_verifier.cpp shows the bias.
#pragma once
#include <cstdint>
#include <vector>

#include "decode/sampler.h"
#include "decode/speculative/tree.h"

namespace rooflm::spec {

struct VerifyResult {
  std::vector<int32_t> path;  // accepted candidate nodes, root excluded, root to leaf
  int32_t next = -1;          // the target's own token after the path (the new root)
};

class Verifier {
 public:
  Verifier(Sampler& sampler, int64_t n_vocab);

  // logits: tree.size() rows of n_vocab; row i is the target's logits after node i.
  // history: the tokens before the root (for the repetition penalty).
  VerifyResult verify(const DraftTree& tree, const float* logits, const std::vector<int32_t>& history);

  // The rule at one node: p is the target distribution after `node` (n_vocab entries,
  // summing to 1). Returns the accepted child, or -1 when every child was rejected, and
  // then p holds the residual distribution to draw the next token from.
  int accept_child(const DraftTree& tree, int node, std::vector<double>& p);
  // Draws from p (need not be normalised exactly).
  int32_t draw(const std::vector<double>& p);

 private:
  Sampler& sampler_;
  int64_t n_vocab_;
  std::vector<float> pf_;
  std::vector<double> p_;
  std::vector<int32_t> hist_;
};

}  // namespace rooflm::spec
