// Byte-level BPE (GPT-2 family): pre-tokenizer regex pieces, merges by rank, a piece cache.
#include "core/error.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace rooflm {

void Tokenizer::Impl::build_merges() {
  merges.reserve(spec.merges.size() * 2);
  for (size_t r = 0; r < spec.merges.size(); ++r) {
    const std::string_view m = spec.merges[r];
    // "a b": byte-level tokens hold no spaces, but SPM vocabularies may (a token with a real
    // space), so take the first split whose halves are both tokens.
    int32_t a = -1, b = -1;
    size_t split = std::string_view::npos;
    std::string_view missing;
    for (size_t sp = m.find(' '); sp != std::string_view::npos; sp = m.find(' ', sp + 1)) {
      int32_t ia = find(m.substr(0, sp)), ib = find(m.substr(sp + 1));
      if (ia >= 0 && ib >= 0) {
        a = ia, b = ib, split = sp;
        break;
      }
      if (missing.empty()) missing = ia < 0 ? m.substr(0, sp) : m.substr(sp + 1);
    }
    if (m.find(' ') == std::string_view::npos)
      fail("tokenizer.ggml.merges[", r, "] = '", m, "': expected two tokens separated by a space");
    if (split == std::string_view::npos)
      fail("tokenizer.ggml.merges[", r, "] = '", m, "': token '", missing, "' is not in the vocabulary");
    std::string lr = std::string(m.substr(0, split)) + std::string(m.substr(split + 1));
    int32_t id = find(lr);
    if (id < 0) fail("tokenizer.ggml.merges[", r, "] = '", m, "': merged token '", lr, "' is not in the vocabulary");
    merges[((uint64_t)(uint32_t)a << 32) | (uint32_t)b] = {(int32_t)r, id};  // a later duplicate wins, as in HF
  }
  if (!byte_level) return;
  byte_token.fill(-1);
  const auto& b2u = tok::byte_to_unicode();
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    tok::utf8_append(ch, b2u[b]);
    byte_token[b] = find(ch);
  }
}

void Tokenizer::Impl::encode_byte_level(std::string_view seg, std::vector<int32_t>& out) const {
  auto rank = [this](int32_t a, int32_t b, tok::MergeKey& key, int32_t& merged) {
    auto it = merges.find(((uint64_t)(uint32_t)a << 32) | (uint32_t)b);
    if (it == merges.end()) return false;
    key.hi = (uint64_t)it->second.first;
    merged = it->second.second;
    return true;
  };
  auto bpe_piece = [&](std::string_view piece) {
    {
      std::lock_guard<std::mutex> lock(cache_mu);
      auto it = cache.find(piece);
      if (it != cache.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int32_t> ids;
    if (spec.ignore_merges) {
      int32_t whole = find(tok::bytes_to_byte_level(piece));
      if (whole >= 0) ids.push_back(whole);
    }
    if (ids.empty()) {
      ids.reserve(piece.size());
      for (unsigned char c : piece) {
        int32_t id = byte_token[c];
        if (id >= 0) ids.push_back(id);  // as HF's BPE without unk: a byte with no token is dropped
      }
      tok::bpe_merge(ids, rank);
    }
    out.insert(out.end(), ids.begin(), ids.end());
    std::lock_guard<std::mutex> lock(cache_mu);
    if (cache.size() > 65536) cache.clear();
    cache.emplace(std::string(piece), std::move(ids));
  };

  std::vector<std::string_view> pieces_buf;
  auto p = reinterpret_cast<const unsigned char*>(seg.data());
  size_t i = 0, run = 0;
  auto flush_run = [&](size_t end) {
    if (end <= run) return;
    pieces_buf.clear();
    pre->split(seg.substr(run, end - run), pieces_buf);
    for (std::string_view piece : pieces_buf) bpe_piece(piece);
  };
  while (i < seg.size()) {
    int len = tok::utf8_char_len(p + i, seg.size() - i);
    if (len > 0) {
      i += len;
      continue;
    }
    // Invalid byte: its own piece, the byte's token, dropped if there is none (rule in tokenizer.h).
    flush_run(i);
    int32_t id = byte_token[p[i]];
    if (id >= 0) out.push_back(id);
    run = ++i;
  }
  flush_run(seg.size());
}

}  // namespace rooflm
