// The BPE merge loop shared by byte-level and SentencePiece-style tokenizers (internal).
#pragma once
#include <cstdint>
#include <queue>
#include <vector>

namespace rooflm::tok {

// Priority of a merge: lower is applied first (Hugging Face BPE: lowest merge rank, then leftmost).
struct MergeKey {
  uint64_t hi = 0, lo = 0;
  bool operator<(const MergeKey& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
  bool operator==(const MergeKey& o) const { return hi == o.hi && lo == o.lo; }
};

// Applies merges to `ids` in place. Ranker: bool operator()(int32_t left, int32_t right,
// MergeKey& key, int32_t& merged) const -- whether (left, right) merges, its key and the result.
// `frozen[i]` (optional, same length as ids) marks symbols that never merge.
template <typename Ranker>
void bpe_merge(std::vector<int32_t>& ids, const Ranker& rank, const std::vector<bool>* frozen = nullptr) {
  const int n = (int)ids.size();
  if (n < 2) return;
  struct Sym {
    int32_t id, prev, next;
  };
  std::vector<Sym> sym(n);
  for (int i = 0; i < n; ++i) sym[i] = {ids[i], i - 1, i + 1 < n ? i + 1 : -1};
  struct Cand {
    MergeKey key;
    int32_t pos, left, right, merged;
    bool operator>(const Cand& o) const {
      if (!(key == o.key)) return o.key < key;
      return pos > o.pos;
    }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto try_push = [&](int32_t pos) {
    if (pos < 0) return;
    int32_t nx = sym[pos].next;
    if (nx < 0) return;
    if (frozen && ((*frozen)[pos] || (*frozen)[nx])) return;
    MergeKey key;
    int32_t merged;
    if (rank(sym[pos].id, sym[nx].id, key, merged)) heap.push({key, pos, sym[pos].id, sym[nx].id, merged});
  };
  for (int i = 0; i + 1 < n; ++i) try_push(i);
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    Sym& a = sym[c.pos];
    if (a.id != c.left || a.next < 0) continue;  // merged away or changed since pushed
    Sym& b = sym[a.next];
    if (b.id != c.right) continue;
    a.id = c.merged;
    a.next = b.next;
    if (b.next >= 0) sym[b.next].prev = c.pos;
    b.id = -1;  // dead
    b.next = -1;
    try_push(a.prev);
    try_push(c.pos);
  }
  std::vector<int32_t> out;
  out.reserve(n);
  for (int i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
  ids.swap(out);
}

}  // namespace rooflm::tok
