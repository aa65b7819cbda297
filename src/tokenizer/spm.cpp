// SentencePiece-style BPE as Hugging Face runs it (BPE model with byte_fallback, fuse_unk):
// spaces -> U+2581, optional space prefix, one word per text segment, characters missing from the
// vocabulary -> <0xNN> byte tokens (or UNK), merges by rank, or by score when there are none.
#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace rooflm {

namespace {
constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581
}

void Tokenizer::Impl::build_spm() {
  if (!spec.merges.empty()) {
    build_merges();
  } else {
    // transformers derives the merges from the vocabulary (generate_merges): every split of a token
    // into two tokens, ordered by the token's score (higher first), then longer left piece, longer
    // right piece, then vocabulary order. Without scores, earlier tokens rank higher.
    spm_merge_by_score = true;
    std::vector<float> sc(spec.scores);
    if (sc.empty()) {
      sc.resize(n);
      for (int32_t i = 0; i < n; ++i) sc[i] = -(float)i;
    }
    std::vector<float> distinct(sc);
    std::sort(distinct.begin(), distinct.end(), [](float x, float y) { return x > y; });
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    score_rank.resize(n);
    cp_len.resize(n);
    for (int32_t i = 0; i < n; ++i) {
      score_rank[i] = (uint32_t)(std::lower_bound(distinct.begin(), distinct.end(), sc[i],
                                                  [](float x, float y) { return x > y; }) -
                                 distinct.begin());
      cp_len[i] = (uint32_t)std::min<size_t>(tok::utf8_count(spec.tokens[i]), 0xFFFF);
    }
  }
  byte_token.fill(-1);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_token[b] = find(name);
  }
}

void Tokenizer::Impl::encode_spm(std::string_view seg, bool at_text_start, std::vector<int32_t>& out) const {
  if (seg.empty()) return;
  bool prefix = false;
  if (spec.add_space_prefix) {
    bool starts_with_space = seg[0] == ' ' || seg.substr(0, 3) == kSpace;
    switch (spec.space_prefix) {
      case SpacePrefix::First: prefix = at_text_start && !starts_with_space; break;
      case SpacePrefix::Always: prefix = !starts_with_space; break;
      case SpacePrefix::Normalizer: prefix = true; break;
    }
  }

  auto rank_merges = [this](int32_t a, int32_t b, tok::MergeKey& key, int32_t& merged) {
    auto it = merges.find(((uint64_t)(uint32_t)a << 32) | (uint32_t)b);
    if (it == merges.end()) return false;
    key.hi = (uint64_t)it->second.first;
    merged = it->second.second;
    return true;
  };
  std::string buf;
  auto rank_scores = [this, &buf](int32_t a, int32_t b, tok::MergeKey& key, int32_t& merged) {
    buf.assign(spec.tokens[a]);
    buf += spec.tokens[b];
    int32_t t = find(buf);
    if (t < 0) return false;
    key.hi = ((uint64_t)score_rank[t] << 32) | ((uint64_t)(0xFFFF - cp_len[a]) << 16) | (0xFFFF - cp_len[b]);
    key.lo = (uint64_t)t;
    merged = t;
    return true;
  };

  std::vector<int32_t> ids;
  std::string word;  // the normalized run, for ignore_merges
  auto push_unk = [&]() {
    if (spec.unk_id < 0) return;  // nothing to write
    if (!ids.empty() && ids.back() == spec.unk_id) return;  // fuse_unk
    ids.push_back(spec.unk_id);
  };
  auto push_char = [&](std::string_view ch) {
    word += ch;
    int32_t id = find(ch);
    if (id >= 0) {
      ids.push_back(id);
      return;
    }
    bool all = true;
    for (unsigned char c : ch) all = all && byte_token[c] >= 0;
    if (!all) return push_unk();
    for (unsigned char c : ch) ids.push_back(byte_token[c]);
  };
  auto flush = [&]() {
    if (ids.empty()) return;
    int32_t whole = spec.ignore_merges ? find(word) : -1;
    if (whole >= 0) {
      out.push_back(whole);
    } else {
      if (spm_merge_by_score) tok::bpe_merge(ids, rank_scores);
      else tok::bpe_merge(ids, rank_merges);
      out.insert(out.end(), ids.begin(), ids.end());
    }
    ids.clear();
    word.clear();
  };

  if (prefix) push_char(kSpace);
  auto p = reinterpret_cast<const unsigned char*>(seg.data());
  size_t i = 0;
  while (i < seg.size()) {
    int len = tok::utf8_char_len(p + i, seg.size() - i);
    if (len == 0) {  // invalid byte: a piece of its own, byte fallback (see tokenizer.h)
      flush();
      int32_t id = byte_token[p[i]];
      if (id >= 0) out.push_back(id);
      else if (spec.unk_id >= 0) out.push_back(spec.unk_id);
      ++i;
      continue;
    }
    if (len == 1 && seg[i] == ' ') push_char(kSpace);
    else push_char(seg.substr(i, len));
    i += len;
  }
  flush();
}

}  // namespace rooflm
