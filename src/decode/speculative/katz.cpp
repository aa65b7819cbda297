#include "decode/speculative/katz.h"

#include <algorithm>
#include <unordered_set>

#include "core/error.h"

namespace rooflm::spec {

namespace {
constexpr int kGT = 5;           // Good-Turing discounting for counts 1..kGT
constexpr int kTopUni = 64;      // unigram candidates kept sorted for top()
constexpr int64_t kEpoch = 32;   // tokens between refreshes of discounts and caches
}  // namespace

KatzTrigram::KatzTrigram(int64_t n_vocab) : n_vocab_(n_vocab) {
  if (n_vocab < 1 || n_vocab > (1 << 21)) fail("katz trigram: vocabulary of ", n_vocab, " tokens is not supported");
  uni_.assign((size_t)n_vocab, 0);
  coc2_.assign(kGT + 2, 0);
  coc3_.assign(kGT + 2, 0);
}

// Order 2: context v (key v). Order 3: context (u, v) (key2(u, v)). Entry keys: 21 bits per token.
uint64_t KatzTrigram::entry_key(int order, uint64_t hk, int32_t w) const {
  if (order == 2) return ((hk & 0x1FFFFF) << 21) | ((uint32_t)w & 0x1FFFFF);
  const uint64_t u = hk >> 32, v = hk & 0xFFFFFFFFu;
  return ((u & 0x1FFFFF) << 42) | ((v & 0x1FFFFF) << 21) | ((uint32_t)w & 0x1FFFFF);
}

void KatzTrigram::bump(Ctx& h, int order, uint64_t hk, int32_t w) {
  auto& index = order == 2 ? bi_ : tri_;
  auto& coc = order == 2 ? coc2_ : coc3_;
  h.total++;
  const uint64_t key = entry_key(order, hk, w);
  auto [it, fresh] = index.try_emplace(key, (uint32_t)h.next.size());
  if (fresh) h.next.push_back({w, 0});
  uint32_t i = it->second;
  uint32_t& c = h.next[i].second;
  if (c >= 1 && c <= (uint32_t)kGT + 1) coc[(size_t)c]--;
  c++;
  if (c <= (uint32_t)kGT + 1) coc[(size_t)c]++;
  // Keep the list sorted by count (descending): move the entry ahead of smaller counts.
  while (i > 0 && h.next[i - 1].second < h.next[i].second) {
    std::swap(h.next[i - 1], h.next[i]);
    index[entry_key(order, hk, h.next[i].first)] = i;
    i--;
  }
  it->second = i;
}

uint32_t KatzTrigram::count_of(int order, uint64_t hk, const Ctx& h, int32_t w) const {
  const auto& index = order == 2 ? bi_ : tri_;
  auto it = index.find(entry_key(order, hk, w));
  return it == index.end() ? 0 : h.next[it->second].second;
}

void KatzTrigram::count(int32_t u, int32_t v, int32_t w) {
  if (w < 0 || w >= n_vocab_) fail("katz trigram: token ", w, " is outside the vocabulary");
  if (uni_[(size_t)w]++ == 0) seen_.push_back(w);
  n_total_++;
  if (v >= 0) {
    bump(ctx2_[v], 2, (uint64_t)(uint32_t)v, w);
    if (u >= 0) {
      const uint64_t hk = key2(u, v);
      bump(ctx3_[hk], 3, hk, w);
    }
  }
  if (++since_update_ >= kEpoch) dirty_ = true;
}

void KatzTrigram::add_sequence(const std::vector<int32_t>& tokens) {
  for (size_t i = 0; i < tokens.size(); i++)
    count(i >= 2 ? tokens[i - 2] : -1, i >= 1 ? tokens[i - 1] : -1, tokens[i]);
  dirty_ = true;
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
  const_cast<KatzTrigram*>(this)->since_update_ = 0;
  epoch_++;
  auto fill = [](const std::vector<int64_t>& n, double* d) {
    // Good-Turing: r* = (r+1) n_{r+1} / n_r; Katz: d_r = (r*/r - A) / (1 - A), A = (k+1) n_{k+1} / n_1.
    bool ok = n[1] > 0;
    const double A = ok ? (double)(kGT + 1) * (double)n[kGT + 1] / (double)n[1] : 0;
    ok = ok && A < 1;
    for (int r = 1; r <= kGT && ok; r++) {
      if (n[(size_t)r] <= 0 || n[(size_t)r + 1] <= 0) {
        ok = false;
        break;
      }
      const double rs = (double)(r + 1) * (double)n[(size_t)r + 1] / (double)n[(size_t)r];
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
  if (h.alpha_epoch == epoch_) return h.alpha;
  double kept = 0, lower = 0;
  for (auto& [w, c] : h.next) {
    kept += discount(2, c) * c / h.total;
    lower += p_uni(w);
  }
  h.alpha = lower < 1 - 1e-9 ? std::max(0.0, 1 - kept) / (1 - lower) : 0.0;
  h.alpha_epoch = epoch_;
  return h.alpha;
}

double KatzTrigram::p_bi(int32_t v, int32_t w) const {
  if (v >= 0) {
    auto it = ctx2_.find(v);
    if (it != ctx2_.end()) {
      const uint32_t c = count_of(2, (uint64_t)(uint32_t)v, it->second, w);
      if (c > 0) return discount(2, c) * c / it->second.total;
      return alpha_bi(v) * p_uni(w);
    }
  }
  return p_uni(w);
}

double KatzTrigram::alpha_tri(const Ctx& h, int32_t v) const {
  if (h.alpha_epoch == epoch_) return h.alpha;
  double kept = 0, lower = 0;
  for (auto& [w, c] : h.next) {
    kept += discount(3, c) * c / h.total;
    lower += p_bi(v, w);
  }
  h.alpha = lower < 1 - 1e-9 ? std::max(0.0, 1 - kept) / (1 - lower) : 0.0;
  h.alpha_epoch = epoch_;
  return h.alpha;
}

double KatzTrigram::prob(int32_t u, int32_t v, int32_t w) const {
  update_discounts();
  if (u >= 0 && v >= 0) {
    const uint64_t hk = key2(u, v);
    auto it = ctx3_.find(hk);
    if (it != ctx3_.end()) {
      const uint32_t c = count_of(3, hk, it->second, w);
      if (c > 0) return discount(3, c) * c / it->second.total;
      return alpha_tri(it->second, v) * p_bi(v, w);
    }
  }
  return p_bi(v, w);
}

void KatzTrigram::top(int32_t u, int32_t v, int k, std::vector<Candidate>& out) const {
  out.clear();
  if (k <= 0 || n_total_ == 0) return;
  update_discounts();
  // Lists are sorted by count, so each order's best candidates are at the front; an order
  // needs at most k + (tokens already taken) entries to fill its share.
  std::unordered_set<int32_t> have;
  double a3 = 1.0;  // back-off weight from the trigram level
  if (u >= 0 && v >= 0) {
    auto it = ctx3_.find(key2(u, v));
    if (it != ctx3_.end()) {
      const Ctx& h = it->second;
      for (size_t i = 0; i < h.next.size() && (int)i < k; i++) {
        const auto& [w, c] = h.next[i];
        out.push_back({w, (float)(discount(3, c) * c / h.total)});
        have.insert(w);
      }
      a3 = alpha_tri(h, v);
    }
  }
  double a2 = 1.0;
  if (v >= 0) {
    auto it = ctx2_.find(v);
    if (it != ctx2_.end()) {
      const Ctx& h = it->second;
      int added = 0;
      for (size_t i = 0; i < h.next.size() && added < k; i++) {
        const auto& [w, c] = h.next[i];
        if (have.insert(w).second) {
          out.push_back({w, (float)(a3 * discount(2, c) * c / h.total)});
          added++;
        }
      }
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
