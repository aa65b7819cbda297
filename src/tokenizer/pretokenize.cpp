#include "tokenizer/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <utility>

#include "core/error.h"

namespace rooflm::tok {

namespace {

// Hugging Face ByteLevel(use_regex=true) pattern (GPT-2). llama.cpp's copy omits the final \s+;
// it only matters for whitespace that is followed by a non-space, which HF splits off.
constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// HF Digits(individual_digits=true): every \p{N} is a piece of its own (SmolLM/StarCoder).
constexpr const char* kDigit = R"(\p{N})";
// Llama 3 tokenizer.json Split regex.
constexpr const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2 tokenizer.json Split regex (digits one at a time).
constexpr const char* kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct Entry {
  const char* name;
  std::vector<const char*> chain;
};

const std::vector<Entry>& table() {
  static const std::vector<Entry> t = {
      // "default" for a byte-level vocabulary: transformers' GGUF conversion uses the GPT-2 ByteLevel regex.
      {"gpt2", {kGpt2}}, {"default", {kGpt2}}, {"gpt-2", {kGpt2}}, {"mpt", {kGpt2}}, {"olmo", {kGpt2}},
      {"smollm", {kDigit, kGpt2}}, {"starcoder", {kDigit, kGpt2}}, {"refact", {kDigit, kGpt2}},
      {"codeshell", {kDigit, kGpt2}},
      {"llama-bpe", {kLlama3}}, {"llama3", {kLlama3}}, {"llama-v3", {kLlama3}}, {"dbrx", {kLlama3}},
      {"smaug-bpe", {kLlama3}}, {"falcon3", {kLlama3}},
      {"qwen2", {kQwen2}}, {"deepseek-r1-qwen", {kQwen2}}, {"megrez", {kQwen2}},
  };
  return t;
}

const Entry* find_entry(const std::string& pre) {
  for (const auto& e : table())
    if (pre == e.name) return &e;
  return nullptr;
}

}  // namespace

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  bool jit = false;
  explicit Regex(const char* pattern) {
    int err = 0;
    PCRE2_SIZE off = 0;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err,
                         &off, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      fail("tokenizer: cannot compile pre-tokenizer regex at offset ", off, ": ", reinterpret_cast<char*>(msg));
    }
    jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  }
  ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(const std::string& pre) {
  const Entry* e = find_entry(pre);
  if (!e) fail("tokenizer.ggml.pre = '", pre, "': unknown pre-tokenizer (known: ", known_names(), ")");
  for (const char* p : e->chain) chain_.push_back(std::make_unique<Regex>(p));
}

PreTokenizer::~PreTokenizer() = default;

bool PreTokenizer::known(const std::string& pre) { return find_entry(pre) != nullptr; }

std::string PreTokenizer::known_names() {
  std::string s;
  for (const auto& e : table()) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

std::string PreTokenizer::name_of_split_regex(const std::string& regex) {
  if (regex == kLlama3) return "llama-bpe";
  if (regex == kQwen2) return "qwen2";
  if (regex == kGpt2) return "gpt2";
  return "";
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
  std::vector<std::string_view> cur{text}, next;
  for (const auto& re : chain_) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(re->code, nullptr);
    if (!md) fail("tokenizer: out of memory for regex match data");
    next.clear();
    for (std::string_view piece : cur) {
      auto subj = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t n = piece.size(), pos = 0, last = 0;
      while (pos < n) {
        int rc = pcre2_match(re->code, subj, n, pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0) {
          if (rc == PCRE2_ERROR_NOMATCH) break;
          pcre2_match_data_free(md);
          fail("tokenizer: pre-tokenizer regex failed with PCRE2 error ", rc);
        }
        PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        size_t s = ov[0], e = ov[1];
        if (e == s) {  // empty match (none of our patterns produce one): step one character
          pos = s + 1;
          while (pos < n && (piece[pos] & 0xC0) == 0x80) ++pos;
          continue;
        }
        if (s > last) next.push_back(piece.substr(last, s - last));
        next.push_back(piece.substr(s, e - s));
        last = pos = e;
      }
      if (last < n) next.push_back(piece.substr(last));
    }
    pcre2_match_data_free(md);
    std::swap(cur, next);
  }
  out.insert(out.end(), cur.begin(), cur.end());
}

}  // namespace rooflm::tok
