// TokenizerSpec from GGUF metadata (tokenizer.ggml.*).
#include <cmath>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace rooflm {

namespace {

int32_t read_id(const GGUFFile& f, const char* key, size_t n_tokens) {
  if (!f.has(key)) return -1;
  int64_t v = f.get_int(key);
  if (v < 0 || (uint64_t)v >= n_tokens)
    fail(f.path(), ": metadata '", key, "' = ", v, ": out of range (the vocabulary has ", n_tokens, " tokens)");
  return (int32_t)v;
}

bool only_whitespace_with_space(const std::string& t) {
  // Python: " " in t and not t.strip()
  if (t.find(' ') == std::string::npos) return false;
  auto p = reinterpret_cast<const unsigned char*>(t.data());
  for (size_t i = 0; i < t.size();) {
    int len = tok::utf8_char_len(p + i, t.size() - i);
    if (len == 0 || !tok::is_py_space(tok::utf8_decode(p + i, len))) return false;
    i += len;
  }
  return true;
}

}  // namespace

TokenizerSpec tokenizer_spec_from_gguf(const GGUFFile& f) {
  TokenizerSpec s;
  const std::string& path = f.path();
  s.model = f.get_string("tokenizer.ggml.model");
  if (s.model != "gpt2" && s.model != "llama")
    fail(path, ": metadata 'tokenizer.ggml.model' = '", s.model,
         "': unsupported tokenizer (expected 'gpt2' = byte-level BPE or 'llama' = SentencePiece-style BPE)");
  s.pre = f.get_string("tokenizer.ggml.pre", "default");
  if (s.model == "gpt2" && !tok::PreTokenizer::known(s.pre))
    fail(path, ": metadata 'tokenizer.ggml.pre' = '", s.pre, "': unknown pre-tokenizer (known: ",
         tok::PreTokenizer::known_names(), ")");

  s.tokens = f.get_string_array("tokenizer.ggml.tokens");
  const size_t n = s.tokens.size();
  if (n == 0) fail(path, ": metadata 'tokenizer.ggml.tokens' is empty (expected the vocabulary)");
  if (f.has("tokenizer.ggml.scores")) {
    auto sc = f.get_float_array("tokenizer.ggml.scores");
    if (sc.size() != n)
      fail(path, ": metadata 'tokenizer.ggml.scores' has ", sc.size(), " entries for ", n, " tokens (expected one per token)");
    s.scores.reserve(n);
    for (double v : sc) {
      if (!std::isfinite(v)) fail(path, ": metadata 'tokenizer.ggml.scores' holds a non-finite score");
      s.scores.push_back((float)v);
    }
  }
  if (f.has("tokenizer.ggml.token_type")) {
    auto tt = f.get_int_array("tokenizer.ggml.token_type");
    if (tt.size() != n)
      fail(path, ": metadata 'tokenizer.ggml.token_type' has ", tt.size(), " entries for ", n,
           " tokens (expected one per token)");
    s.token_types.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (tt[i] < 0 || tt[i] > kTokenByte)
        fail(path, ": metadata 'tokenizer.ggml.token_type'[", i, "] = ", tt[i], ": expected 0..6");
      s.token_types.push_back((int32_t)tt[i]);
    }
  }
  if (f.has("tokenizer.ggml.merges")) s.merges = f.get_string_array("tokenizer.ggml.merges");
  if (s.model == "gpt2" && !f.has("tokenizer.ggml.merges"))
    fail(path, ": metadata 'tokenizer.ggml.merges' is missing (required for a byte-level BPE vocabulary)");

  s.bos_id = read_id(f, "tokenizer.ggml.bos_token_id", n);
  s.eos_id = read_id(f, "tokenizer.ggml.eos_token_id", n);
  s.eot_id = read_id(f, "tokenizer.ggml.eot_token_id", n);
  s.pad_id = read_id(f, "tokenizer.ggml.padding_token_id", n);
  s.unk_id = read_id(f, "tokenizer.ggml.unknown_token_id", n);
  const bool spm = s.model == "llama";
  // Defaults as transformers/llama.cpp: SentencePiece vocabularies add BOS and a space prefix.
  s.add_bos = f.get_bool("tokenizer.ggml.add_bos_token", spm);
  s.add_eos = f.get_bool("tokenizer.ggml.add_eos_token", false);
  s.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix", spm);
  s.space_prefix = SpacePrefix::First;
  s.chat_template = f.get_string("tokenizer.chat_template", "");
  // Llama 3's tokenizer.json sets BPE ignore_merges (llama.cpp does the same for this pre type).
  s.ignore_merges = s.model == "gpt2" && (s.pre == "llama-bpe" || s.pre == "llama3" || s.pre == "llama-v3");

  const std::string arch = f.get_string("general.architecture", "");
  // Gemma GGUFs often ship without a template; their format is fixed by the family (llama.cpp
  // falls back the same way).
  if (s.chat_template.empty() && arch.rfind("gemma", 0) == 0) s.chat_template = "gemma";
  if (spm && arch.rfind("gemma", 0) == 0) {
    // As transformers' Gemma GGUF conversion: no space prefix; tokens of spaces stored as real
    // spaces are looked up as U+2581 runs (normal tokens, no longer matched as added tokens); the
    // merge order follows the token order rather than the scores.
    s.add_space_prefix = false;
    for (size_t i = 0; i < n; ++i) {
      if (!only_whitespace_with_space(s.tokens[i])) continue;
      std::string r;
      for (size_t k = 0, cps = tok::utf8_count(s.tokens[i]); k < cps; ++k) r += "\xE2\x96\x81";
      s.tokens[i] = r;
      if (!s.token_types.empty() && s.token_types[i] == kTokenUserDefined) s.token_types[i] = kTokenNormal;
    }
    if (s.merges.empty()) {
      s.scores.resize(n);
      for (size_t i = 0; i < n; ++i) s.scores[i] = -(float)i;
    }
  }
  return s;
}

}  // namespace rooflm
