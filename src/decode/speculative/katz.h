// Katz back-off trigram model over token ids, built incrementally from the decoding
// context (and optionally a corpus), used as a drafter's next-token model.
//
//   P(w | u v) = d(c) c(uvw) / c(uv.)                  if c(uvw) > 0
//              = alpha(uv) P(w | v)                     otherwise
//   P(w | v)   = d(c) c(vw) / c(v.)                     if c(vw) > 0
//              = alpha(v) P(w)                          otherwise
//   P(w)       = c(w) / N
// where c(h.) counts h followed by any token, d(r) are Good-Turing discount ratios for
// r <= 5 computed per order from the counts of counts (falling back to an absolute
// discount D = n1 / (n1 + 2 n2) when the counts are too sparse for Good-Turing), and
// alpha(h) hands the discounted mass to the lower order, normalised over the tokens the
// higher order has not seen.
//
// Speed: continuation lists are kept sorted by count, so the top-k of a context reads only
// its first entries; discounts, the unigram top list and the back-off weights are refreshed
// every 32 new tokens (an epoch), not per token: the drafter's probabilities shape the tree,
// they need not be exact.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "decode/speculative/tree_builder.h"

namespace rooflm::spec {

class KatzTrigram {
 public:
  explicit KatzTrigram(int64_t n_vocab);

  // Counts every n-gram of a sequence (a document: n-grams do not cross its ends).
  void add_sequence(const std::vector<int32_t>& tokens);
  // The live stream (the decoding context): appends a token, counting the n-grams it ends.
  void push(int32_t token);
  void clear_stream();  // starts a new live stream (keeps counts)
  int64_t stream_size() const { return stream_len_; }

  // The k most likely next tokens after context (u, v) (u or v may be -1 = unknown),
  // most likely first.
  void top(int32_t u, int32_t v, int k, std::vector<Candidate>& out) const;
  double prob(int32_t u, int32_t v, int32_t w) const;
  int64_t total() const { return n_total_; }

 private:
  struct Ctx {
    uint32_t total = 0;
    std::vector<std::pair<int32_t, uint32_t>> next;  // continuation, count; count descending
    mutable double alpha = 0;                          // cached back-off weight
    mutable int64_t alpha_epoch = -1;
  };
  static uint64_t key2(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

  void count(int32_t u, int32_t v, int32_t w);  // u, v may be -1
  // Adds one to continuation w of context h (ctx key hk) at order 2 or 3, keeping h.next
  // sorted and the position index up to date.
  void bump(Ctx& h, int order, uint64_t hk, int32_t w);
  uint64_t entry_key(int order, uint64_t hk, int32_t w) const;
  uint32_t count_of(int order, uint64_t hk, const Ctx& h, int32_t w) const;
  void update_discounts() const;
  double discount(int order, uint32_t r) const;  // order 2 or 3: ratio d(r)
  double p_uni(int32_t w) const;
  double p_bi(int32_t v, int32_t w) const;        // Katz bigram
  double alpha_bi(int32_t v) const;
  double alpha_tri(const Ctx& h, int32_t v) const;

  int64_t n_vocab_;
  std::vector<uint32_t> uni_;
  int64_t n_total_ = 0;
  std::unordered_map<uint64_t, uint32_t> bi_, tri_;  // n-gram -> position in its context's list
  std::unordered_map<int32_t, Ctx> ctx2_;
  std::unordered_map<uint64_t, Ctx> ctx3_;
  std::vector<int64_t> coc2_, coc3_;  // counts of counts, index r (1..6)
  std::vector<int32_t> seen_;         // tokens with uni_ > 0
  int32_t s1_ = -1, s2_ = -1;         // last two tokens of the live stream
  int64_t stream_len_ = 0;

  mutable bool dirty_ = true;
  mutable int64_t epoch_ = 0;
  int64_t since_update_ = 0;
  mutable double d2_[7], d3_[7];
  mutable std::vector<int32_t> top_uni_;
};

}  // namespace rooflm::spec
