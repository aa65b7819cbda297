#include "decode/speculative/prompt_lookup.h"

#include <algorithm>

namespace rooflm::spec {

void PromptLookup::index_from(size_t start) {
  for (size_t i = start; i < all_.size(); i++)
    if (all_[i] >= 0) pos_[all_[i]].push_back((int32_t)i);
}

void PromptLookup::add_documents(const std::vector<std::vector<int32_t>>& docs) {
  std::vector<int32_t> ctx(all_.begin() + (ptrdiff_t)n_docs_, all_.end());
  all_.resize(n_docs_);
  for (const auto& d : docs) {
    all_.insert(all_.end(), d.begin(), d.end());
    all_.push_back(-1);
  }
  n_docs_ = all_.size();
  all_.insert(all_.end(), ctx.begin(), ctx.end());
  pos_.clear();
  index_from(0);
}

void PromptLookup::sync(const std::vector<int32_t>& ctx) {
  const size_t have = all_.size() - n_docs_;
  const bool extends = ctx.size() >= have && std::equal(all_.begin() + (ptrdiff_t)n_docs_, all_.end(), ctx.begin());
  if (!extends) {
    all_.resize(n_docs_);
    pos_.clear();
    index_from(0);
  }
  const size_t start = all_.size();
  all_.insert(all_.end(), ctx.begin() + (ptrdiff_t)(all_.size() - n_docs_), ctx.end());
  index_from(start);
}

float PromptLookup::confidence(int m) { return std::min(0.95f, (float)m / ((float)m + 1.5f)); }

int PromptLookup::top(const std::vector<int32_t>& path, int k, std::vector<Candidate>& out) const {
  out.clear();
  const int64_t na = (int64_t)all_.size(), nc = na - (int64_t)n_docs_, np = (int64_t)path.size();
  if (nc + np == 0 || k <= 0) return 0;
  // Token at offset t back from the end of ctx + path (t = 0: the last one).
  auto back = [&](int64_t t) -> int32_t { return t < np ? path[(size_t)(np - 1 - t)] : all_[(size_t)(na - 1 - (t - np))]; };
  const int64_t qlen = nc + np;
  auto it = pos_.find(back(0));
  if (it == pos_.end()) return 0;
  int best = 0;
  // (successor token, count, most recent position) for the longest matches.
  std::vector<std::pair<int32_t, std::pair<int, int32_t>>> succ;
  const auto& ps = it->second;
  for (auto pit = ps.rbegin(); pit != ps.rend(); ++pit) {
    const int64_t j = *pit;
    if (j + 1 >= na || all_[(size_t)(j + 1)] < 0) continue;  // no successor (or the query's own end)
    int m = 1;
    while (m < max_match_ && j - m >= 0 && m < qlen && all_[(size_t)(j - m)] == back(m)) m++;
    if (m < min_match_ || m < best || (j < (int64_t)n_docs_ && m < doc_min_match_)) continue;
    if (m > best) {
      best = m;
      succ.clear();
    }
    const int32_t w = all_[(size_t)(j + 1)];
    auto s = std::find_if(succ.begin(), succ.end(), [&](auto& e) { return e.first == w; });
    if (s == succ.end()) succ.push_back({w, {1, (int32_t)j}});
    else s->second.first++;
  }
  if (best == 0) return 0;
  int total = 0;
  for (auto& e : succ) total += e.second.first;
  std::stable_sort(succ.begin(), succ.end(), [](auto& a, auto& b) { return a.second.first > b.second.first; });
  const float conf = confidence(best);
  for (size_t i = 0; i < succ.size() && (int)i < k; i++)
    out.push_back({succ[i].first, conf * (float)succ[i].second.first / (float)total});
  return best;
}

}  // namespace rooflm::spec
