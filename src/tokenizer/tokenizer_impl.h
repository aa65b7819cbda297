// Tokenizer internals shared by the tokenizer's .cpp files.
#pragma once
#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

namespace rooflm::tok {

struct StrHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StrMap = std::unordered_map<std::string, V, StrHash, std::equal_to<>>;

// Byte trie over the texts of the tokens matched in raw text (special / user-defined tokens).
class SpecialMatcher {
 public:
  void add(std::string_view text, int32_t id);
  // Longest token starting at text[pos]: returns its length (0 if none) and sets id.
  size_t longest(std::string_view text, size_t pos, int32_t& id) const;
  bool may_start(unsigned char c) const { return first_[c]; }
  bool empty() const { return terminal_.size() <= 1; }

 private:
  std::unordered_map<uint64_t, int32_t> edges_;  // (node << 8 | byte) -> child node
  std::vector<int32_t> terminal_{-1};            // node -> token id or -1
  std::array<bool, 256> first_{};
};

}  // namespace rooflm::tok

namespace rooflm {

struct Tokenizer::Impl {
  TokenizerSpec spec;
  bool byte_level = false;  // model "gpt2"
  int32_t n = 0;
  tok::StrMap<int32_t> vocab;  // token text -> id (last one wins, like a Python dict)
  std::vector<std::string> pieces;                  // token_piece() per id
  std::vector<uint8_t> match_kind;                  // 0: BPE only, 1: matched if parse_special, 2: always matched
  std::vector<bool> eog;
  tok::SpecialMatcher specials;
  tok::ChatTemplateInfo chat;
  std::string bos_text, eos_text;

  // BPE merges by rank: (left << 32 | right) -> (rank, merged id).
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  // Initial symbols: byte-level: id of the one-character token of each byte; SPM: <0xNN> ids.
  std::array<int32_t, 256> byte_token{};

  // Byte-level.
  std::unique_ptr<tok::PreTokenizer> pre;
  mutable std::mutex cache_mu;
  mutable tok::StrMap<std::vector<int32_t>> cache;

  // SPM without merges: merge priority from scores, as transformers' generate_merges orders them:
  // higher score of the merged token first, then longer left piece, longer right piece, vocabulary order.
  bool spm_merge_by_score = false;
  std::vector<uint32_t> score_rank;  // dense rank of the score, 0 = highest
  std::vector<uint32_t> cp_len;      // code points per token

  explicit Impl(TokenizerSpec s);

  void build_merges();       // bpe.cpp: merge ranks (+ byte-level byte_token)
  void encode_byte_level(std::string_view seg, std::vector<int32_t>& out) const;  // bpe.cpp
  void build_spm();          // spm.cpp
  void encode_spm(std::string_view seg, bool at_text_start, std::vector<int32_t>& out) const;  // spm.cpp
  void encode_segment(std::string_view seg, bool at_text_start, std::vector<int32_t>& out) const;
  int32_t find(std::string_view text) const {
    auto it = vocab.find(text);
    return it == vocab.end() ? -1 : it->second;
  }
};

}  // namespace rooflm
