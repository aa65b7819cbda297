#include "decode/speculative/verifier.h"

#include "core/error.h"

namespace rooflm::spec {

Verifier::Verifier(Sampler& sampler, int64_t n_vocab) : sampler_(sampler), n_vocab_(n_vocab) {
  pf_.resize((size_t)n_vocab);
  p_.resize((size_t)n_vocab);
}

int32_t Verifier::draw(const std::vector<double>& p) {
  double total = 0;
  for (int64_t i = 0; i < n_vocab_; i++) total += p[(size_t)i];
  if (!(total > 0)) fail("verifier: empty residual distribution");
  const double u = sampler_.rng().uniform() * total;
  double acc = 0;
  int32_t last = -1;
  for (int64_t i = 0; i < n_vocab_; i++) {
    if (p[(size_t)i] <= 0) continue;
    acc += p[(size_t)i];
    last = (int32_t)i;
    if (u < acc) return (int32_t)i;
  }
  return last;
}

int Verifier::accept_child(const DraftTree& tree, int node, std::vector<double>& p) {
  for (int32_t c : tree.children(node)) {
    const int32_t x = tree.token(c);
    const int qi = tree.q_index(c);
    if (qi < 0) {
      // Deterministic proposal: q = one-hot(x).
      const double px = p[(size_t)x];
      if (px <= 0) continue;  // rejected for sure; residual unchanged
      if (px >= 1 || sampler_.rng().uniform() < px) return c;
      p[(size_t)x] = 0;
      double sum = 0;
      for (int64_t i = 0; i < n_vocab_; i++) sum += p[(size_t)i];
      if (!(sum > 0)) return c;  // p was one-hot on x up to rounding
      const double inv = 1.0 / sum;
      for (int64_t i = 0; i < n_vocab_; i++) p[(size_t)i] *= inv;
    } else {
      const float* q = tree.dist(qi);
      const double px = p[(size_t)x], qx = q[x];
      if (px <= 0) {
        // Rejected for sure, but the residual still subtracts q.
      } else if (qx <= 0 || px >= qx || sampler_.rng().uniform() * qx < px) {
        return c;
      }
      double sum = 0;
      for (int64_t i = 0; i < n_vocab_; i++) {
        const double r = p[(size_t)i] - (double)q[i];
        p[(size_t)i] = r > 0 ? r : 0;
        sum += p[(size_t)i];
      }
      if (!(sum > 0)) {
        // p <= q everywhere means p == q: rejection had probability 0 (rounding).
        if (px > 0) return c;
        fail("verifier: empty residual after a sampled candidate");
      }
      const double inv = 1.0 / sum;
      for (int64_t i = 0; i < n_vocab_; i++) p[(size_t)i] *= inv;
    }
  }
  return -1;
}

VerifyResult Verifier::verify(const DraftTree& tree, const float* logits, const std::vector<int32_t>& history) {
  VerifyResult r;
  hist_ = history;
  hist_.push_back(tree.token(0));
  int node = 0;
  const bool greedy = sampler_.params().greedy();
  for (;;) {
    const float* row = logits + (size_t)node * (size_t)n_vocab_;
    if (greedy) {
      const int32_t t = sampler_.sample(row, hist_);
      const int c = tree.find_child(node, t);
      if (c < 0) {
        r.next = t;
        return r;
      }
      node = c;
    } else {
      if (tree.children(node).empty()) {
        r.next = sampler_.sample(row, hist_);
        return r;
      }
      sampler_.probabilities(row, hist_, pf_.data());
      for (int64_t i = 0; i < n_vocab_; i++) p_[(size_t)i] = pf_[(size_t)i];
      const int c = accept_child(tree, node, p_);
      if (c < 0) {
        r.next = draw(p_);
        return r;
      }
      node = c;
    }
    r.path.push_back(node);
    hist_.push_back(tree.token(node));
  }
}

}  // namespace rooflm::spec
