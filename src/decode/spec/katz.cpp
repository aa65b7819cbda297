#include "decode/spec/katz.h"

#include <algorithm>
#include <unordered_set>

#include "core/error.h"

namespace rooflm::spec {

namespace {
constexpr int kGT = 5;         // Good-Turing discounting for counts 1..kGT
constexpr int kTopUni = 64;    // unigram candidates kept sorted for top()
}  // namespace

KatzTrigram::KatzTrigram(int64_t n_vocab) : n_vocab_(n_vocab) {
  if (n_vocab < 1 || n_vocab > (1 << 21)) fail("katz trigram: vocabulary of ", n_vocab, " tokens is not supported");
  uni_.assign((size_t)n_vocab, 0);
  coc2_.assign(kGT + 2, 0);
  coc3_.assign(kGT + 2, 0);
}

void KatzTrigram::bump(std::unordered_map<uint64_t, uint32_t>& m, uint64_t key, std::vector<int64_t>& coc) {
  uint32_t& c = m[key];
  if (c >= 1 && c <= (uint32_t)kGT + 1) coc[c]--;
  c++;
  if (c <= (uint32_t)kGT + 1) coc[c]++;
}

void KatzTrigram::count(int32_t u, int32_t v, int32_t w) {
  if (w < 0 || w >= n_vocab_) fail("katz trigram: token ", w, " is outside the vocabulary");
  if (uni_[(size_t)w]++ == 0) seen_.push_back(w);
  n_total_++;
  if (v >= 0) {
    bump(bi_, key2(v, w), coc2_);
    Ctx& h = ctx2_[v];
    h.total++;
    auto it = std::find_if(h.next.begin(), h.next.end(), [&](auto& p) { return p.first == w; });
    if (it == h.next.end()) h.next.push_back({w, 1});
    else it->second++;
    if (u >= 0) {
      bump(tri_, key3(u, v, w), coc3_);
      Ctx& h3 = ctx3_[key2(u, v)];
      h3.total++;
      auto it3 = std::find_if(h3.next.begin(), h3.next.end(), [&](auto& p) { return p.first == w; });
      if (it3 == h3.next.end()) h3.next.push_back({w, 1});
      else it3->second++;
    }
  }
  dirty_ = true;
}

void KatzTrigram::add_sequence(const std::vector<int32_t>& tokens) {
  for (size_t i = 0; i < tokens.size(); i++)
    count(i >= 2 ? tokens[i - 2] : -1, i >= 1 ? tokens[i - 1] : -1, tokens[i]);
}

void KatzTrigram::push(int32_t token) {
  count(s2_, s1_, token);
  s2_ = s1_;
  s1_ = token;
  stream_len_++;
}

void KatzTrigram::clear_stream() {
  s1_ = s2_ = -1;
  stream_len_ = 0;
}

void KatzTrigram::update_discounts() const {
  if (!dirty_) return;
  dirty_ = false;
  auto fill = [](const std::vector<int64_t>& n, double* d) {
    // Good-Turing: r* = (r+1) n_{r+1} / n_r; Katz: d_r = (r*/r - A) / (1 - A), A = (k+1) n_{k+1} / n_1.
    bool ok = n[1] > 0;
    const double A = ok ? (double)(kGT + 1) * (double)n[kGT + 1] / (double)n[1] : 0;
    ok = ok && A < 1;
    for (int r = 1; r <= kGT && ok; r++) {
      if (n[r] <= 0 || n[r + 1] <= 0) {
        ok = false;
        break;
      }
      const double rs = (double)(r + 1) * (double)n[r + 1] / (double)n[r];
      d[r] = (rs / r - A) / (1 - A);
      if (!(d[r] > 0.05 && d[r] < 1)) ok = false;
    }
    if (!ok) {
      // Absolute discounting with D = n1 / (n1 + 2 n2) (Ney et al.), clamped.
      double D = (n[1] + 2 * n[2]) > 0 ? (double)n[1] / (double)(n[1] + 2 * n[2]) : 0.5;
      D = std::clamp(D, 0.1, 0.9);
      for (int r = 1; r <= kGT; r++) d[r] = (r - D) / r;
    }
    d[0] = 1;
    d[kGT + 1] = 1;
  };
  fill(coc2_, d2_);
  fill(coc3_, d3_);
  top_uni_ = seen_;
  const size_t k = std::min<size_t>(kTopUni, top_uni_.size());
  std::partial_sort(top_uni_.begin(), top_uni_.begin() + (ptrdiff_t)k, top_uni_.end(), [&](int32_t a, int32_t b) {
    return uni_[(size_t)a] != uni_[(size_t)b] ? uni_[(size_t)a] > uni_[(size_t)b] : a < b;
  });
  top_uni_.resize(k);
}

double KatzTrigram::discount(int order, uint32_t r) const {
  if (r > (uint32_t)kGT) return 1.0;
  return order == 3 ? d3_[r] : d2_[r];
}

double KatzTrigram::p_uni(int32_t w) const { return n_total_ > 0 ? (double)uni_[(size_t)w] / (double)n_total_ : 0.0; }

double KatzTrigram::alpha_bi(int32_t v) const {
  auto it = ctx2_.find(v);
  if (it == ctx2_.end()) return 1.0;
  const Ctx& h = it->second;
  double kept = 0, lower = 0;
  for (auto& [w, c] : h.next) {
    kept += discount(2, c) * c / h.total;
    lower += p_uni(w);
  }
  return lower < 1 - 1e-9 ? std::max(0.0, 1 - kept) / (1 - lower) : 0.0;
}

double KatzTrigram::p_bi(int32_t v, int32_t w) const {
  if (v >= 0) {
    auto it = ctx2_.find(v);
    if (it != ctx2_.end()) {
      auto c = bi_.find(key2(v, w));
      if (c != bi_.end()) return discount(2, c->second) * c->second / it->second.total;
      return alpha_bi(v) * p_uni(w);
    }
  }
  return p_uni(w);
}

double KatzTrigram::alpha_tri(const Ctx& h, int32_t v) const {
  double kept = 0, lower = 0;
  for (auto& [w, c] : h.next) {
    kept += discount(3, c) * c / h.total;
    lower += p_bi(v, w);
  }
  return lower < 1 - 1e-9 ? std::max(0.0, 1 - kept) / (1 - lower) : 0.0;
}

double KatzTrigram::prob(int32_t u, int32_t v, int32_t w) const {
  update_discounts();
  if (u >= 0 && v >= 0) {
    auto it = ctx3_.find(key2(u, v));
    if (it != ctx3_.end()) {
      auto c = tri_.find(key3(u, v, w));
      if (c != tri_.end()) return discount(3, c->second) * c->second / it->second.total;
      return alpha_tri(it->second, v) * p_bi(v, w);
    }
  }
  return p_bi(v, w);
}

void KatzTrigram::top(int32_t u, int32_t v, int k, std::vector<Candidate>& out) const {
  out.clear();
  if (k <= 0 || n_total_ == 0) return;
  update_discounts();
  std::unordered_set<int32_t> have;
  double a3 = 1.0;  // back-off weight from the trigram level
  if (u >= 0 && v >= 0) {
    auto it = ctx3_.find(key2(u, v));
    if (it != ctx3_.end()) {
      for (auto& [w, c] : it->second.next) {
        out.push_back({w, (float)(discount(3, c) * c / it->second.total)});
        have.insert(w);
      }
      a3 = alpha_tri(it->second, v);
    }
  }
  double a2 = 1.0;
  if (v >= 0) {
    auto it = ctx2_.find(v);
    if (it != ctx2_.end()) {
      for (auto& [w, c] : it->second.next)
        if (have.insert(w).second) out.push_back({w, (float)(a3 * discount(2, c) * c / it->second.total)});
      a2 = alpha_bi(v);
    }
  }
  int added = 0;
  for (int32_t w : top_uni_) {
    if (added >= k) break;
    if (!have.insert(w).second) continue;
    out.push_back({w, (float)(a3 * a2 * p_uni(w))});
    added++;
  }
  const size_t n = std::min<size_t>((size_t)k, out.size());
  std::partial_sort(out.begin(), out.begin() + (ptrdiff_t)n, out.end(), [](const Candidate& a, const Candidate& b) {
    return a.prob != b.prob ? a.prob > b.prob : a.token < b.token;
  });
  out.resize(n);
}

}  // namespace rooflm::spec
