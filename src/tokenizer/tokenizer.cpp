// Tokenizer: validation of the spec, special-token matching, dispatch to byte-level BPE (bpe.cpp)
// or SentencePiece-style BPE (spm.cpp), decoding, chat templates.
#include <algorithm>

#include "core/error.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace rooflm {

namespace tok {

void SpecialMatcher::add(std::string_view text, int32_t id) {
  if (text.empty()) return;
  int32_t node = 0;
  for (unsigned char c : text) {
    uint64_t key = ((uint64_t)node << 8) | c;
    auto it = edges_.find(key);
    if (it == edges_.end()) {
      int32_t child = (int32_t)terminal_.size();
      terminal_.push_back(-1);
      edges_.emplace(key, child);
      node = child;
    } else {
      node = it->second;
    }
  }
  terminal_[node] = id;  // a later token with the same text wins, like a dict
  first_[(unsigned char)text[0]] = true;
}

size_t SpecialMatcher::longest(std::string_view text, size_t pos, int32_t& id) const {
  size_t best = 0;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    auto it = edges_.find(((uint64_t)node << 8) | (unsigned char)text[i]);
    if (it == edges_.end()) break;
    node = it->second;
    if (terminal_[node] >= 0) {
      best = i + 1 - pos;
      id = terminal_[node];
    }
  }
  return best;
}

}  // namespace tok

namespace {

bool is_byte_token_text(const std::string& t, int& byte) {
  if (t.size() != 6 || t[0] != '<' || t[1] != '0' || t[2] != 'x' || t[5] != '>') return false;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;  // SentencePiece writes upper-case hex
  };
  int hi = hex(t[3]), lo = hex(t[4]);
  if (hi < 0 || lo < 0) return false;
  byte = hi * 16 + lo;
  return true;
}

bool in_byte_alphabet(const std::string& t) {
  std::string bytes;
  return tok::byte_level_to_bytes(t, bytes);
}

const char* const kEndOfTurnTexts[] = {"<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>",
                                       "<|end|>", "<|eom_id|>", "</s>", "<eos>", "<|return|>"};

}  // namespace

Tokenizer::Impl::Impl(TokenizerSpec s) : spec(std::move(s)) {
  if (spec.model == "gpt2") {
    byte_level = true;
  } else if (spec.model != "llama") {
    fail("tokenizer.ggml.model = '", spec.model,
         "': unknown tokenizer model (expected 'gpt2' = byte-level BPE or 'llama' = SentencePiece-style BPE)");
  }
  if (spec.tokens.empty()) fail("tokenizer.ggml.tokens: the vocabulary is empty (expected an array of token strings)");
  if (spec.tokens.size() > (size_t)INT32_MAX) fail("tokenizer.ggml.tokens: ", spec.tokens.size(), " tokens is too many");
  n = (int32_t)spec.tokens.size();
  if (!spec.scores.empty() && spec.scores.size() != spec.tokens.size())
    fail("tokenizer.ggml.scores: ", spec.scores.size(), " scores for ", n, " tokens (expected one per token)");
  if (!spec.token_types.empty() && spec.token_types.size() != spec.tokens.size())
    fail("tokenizer.ggml.token_type: ", spec.token_types.size(), " types for ", n, " tokens (expected one per token)");
  for (size_t i = 0; i < spec.token_types.size(); ++i)
    if (spec.token_types[i] < 0 || spec.token_types[i] > kTokenByte)
      fail("tokenizer.ggml.token_type[", i, "] = ", spec.token_types[i], ": expected 0..6");
  struct IdField {
    const char* key;
    int32_t id;
  };
  for (IdField f : {IdField{"tokenizer.ggml.bos_token_id", spec.bos_id}, IdField{"tokenizer.ggml.eos_token_id", spec.eos_id},
                    IdField{"tokenizer.ggml.eot_token_id", spec.eot_id}, IdField{"tokenizer.ggml.padding_token_id", spec.pad_id},
                    IdField{"tokenizer.ggml.unknown_token_id", spec.unk_id}})
    if (f.id < -1 || f.id >= n) fail(f.key, " = ", f.id, ": out of range (the vocabulary has ", n, " tokens)");

  auto type_of = [&](int32_t id) { return spec.token_types.empty() ? (int32_t)kTokenNormal : spec.token_types[id]; };

  // Vocabulary lookup. Byte-level vocabularies spell tokens in the byte alphabet; a token outside
  // it (a GGUF writing an added token as raw text) is looked up by its byte-level spelling.
  vocab.reserve(spec.tokens.size() * 2);
  pieces.resize(n);
  for (int32_t id = 0; id < n; ++id) {
    const std::string& t = spec.tokens[id];
    if (byte_level) {
      std::string bytes;
      if (tok::byte_level_to_bytes(t, bytes)) {
        vocab[t] = id;
        pieces[id] = bytes;
      } else {
        vocab[tok::bytes_to_byte_level(t)] = id;
        pieces[id] = t;
      }
    } else {
      vocab[t] = id;
      int b;
      if (is_byte_token_text(t, b)) {
        pieces[id] = std::string(1, (char)b);
      } else {
        std::string p;
        for (size_t i = 0; i < t.size();) {
          if (t.compare(i, 3, "\xE2\x96\x81") == 0) {
            p += ' ';
            i += 3;
          } else {
            p += t[i++];
          }
        }
        pieces[id] = p;
      }
    }
  }

  // Tokens matched in raw text. transformers adds control tokens and the BOS/EOS/UNK/PAD tokens as
  // special added tokens and user-defined tokens as plain added tokens; in a byte-level vocabulary
  // it skips those not spelled in the byte alphabet.
  match_kind.assign(n, 0);
  auto mark = [&](int32_t id, uint8_t kind) {
    if (id < 0) return;
    if (byte_level && !in_byte_alphabet(spec.tokens[id])) return;
    match_kind[id] = std::max(match_kind[id], kind);
  };
  for (int32_t id = 0; id < n; ++id) {
    int32_t t = type_of(id);
    if (t == kTokenControl) mark(id, 1);
    else if (t == kTokenUserDefined) mark(id, 2);
  }
  for (int32_t id : {spec.bos_id, spec.eos_id, spec.unk_id, spec.pad_id}) mark(id, 1);
  for (int32_t id = 0; id < n; ++id)
    if (match_kind[id]) specials.add(spec.tokens[id], id);

  eog.assign(n, false);
  if (spec.eos_id >= 0) eog[spec.eos_id] = true;
  if (spec.eot_id >= 0) eog[spec.eot_id] = true;
  for (const char* t : kEndOfTurnTexts) {
    auto it = vocab.find(byte_level ? tok::bytes_to_byte_level(t) : std::string(t));
    if (it != vocab.end() && (spec.token_types.empty() || type_of(it->second) == kTokenControl ||
                              type_of(it->second) == kTokenUserDefined))
      eog[it->second] = true;
  }

  chat = tok::detect_chat_template(spec.chat_template);
  if (spec.bos_id >= 0) bos_text = spec.tokens[spec.bos_id];
  if (spec.eos_id >= 0) eos_text = spec.tokens[spec.eos_id];

  if (byte_level) {
    pre = std::make_unique<tok::PreTokenizer>(spec.pre);
    build_merges();
  } else {
    build_spm();
  }
}

void Tokenizer::Impl::encode_segment(std::string_view seg, bool at_text_start, std::vector<int32_t>& out) const {
  if (byte_level) encode_byte_level(seg, out);
  else encode_spm(seg, at_text_start, out);
}

Tokenizer::Tokenizer(TokenizerSpec spec) : impl_(std::make_shared<const Impl>(std::move(spec))) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(const Tokenizer&) = default;
Tokenizer& Tokenizer::operator=(const Tokenizer&) = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  const Impl& m = *impl_;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_bos && m.spec.add_bos && m.spec.bos_id >= 0) out.push_back(m.spec.bos_id);
  size_t seg = 0, i = 0;
  if (!m.specials.empty()) {
    while (i < text.size()) {
      if (!m.specials.may_start((unsigned char)text[i])) {
        ++i;
        continue;
      }
      int32_t id = -1;
      size_t len = m.specials.longest(text, i, id);
      if (len == 0) {
        ++i;
        continue;
      }
      if (m.match_kind[id] == 1 && !parse_special) {  // left in the text, scanning resumes after it (as HF does)
        i += len;
        continue;
      }
      m.encode_segment(text.substr(seg, i - seg), seg == 0, out);
      out.push_back(id);
      i += len;
      seg = i;
    }
  }
  m.encode_segment(text.substr(seg), seg == 0, out);
  return out;
}

std::string Tokenizer::token_piece(int32_t id) const {
  if (id < 0 || id >= impl_->n) fail("tokenizer: token id ", id, " is out of range (vocabulary has ", impl_->n, " tokens)");
  return impl_->pieces[id];
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) out += token_piece(id);
  if (!impl_->byte_level && impl_->spec.add_space_prefix && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

std::string Tokenizer::apply_chat_template(const std::vector<ChatMessage>& msgs, bool add_generation_prompt) const {
  return tok::render_chat(impl_->chat, msgs, add_generation_prompt, impl_->bos_text, impl_->eos_text);
}

bool Tokenizer::has_chat_template() const { return impl_->chat.format != tok::ChatFormat::None; }
std::string Tokenizer::chat_format() const { return tok::chat_format_name(impl_->chat.format); }

bool Tokenizer::is_eog(int32_t id) const { return id >= 0 && id < impl_->n && impl_->eog[id]; }
bool Tokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= impl_->n) return false;
  const auto& s = impl_->spec;
  if (!s.token_types.empty() && s.token_types[id] == kTokenControl) return true;
  return id == s.bos_id || id == s.eos_id || id == s.unk_id || id == s.pad_id;
}
int32_t Tokenizer::bos() const { return impl_->spec.bos_id; }
int32_t Tokenizer::eos() const { return impl_->spec.eos_id; }
int32_t Tokenizer::n_vocab() const { return impl_->n; }
int32_t Tokenizer::token_id(std::string_view text) const {
  int32_t id = impl_->find(impl_->byte_level ? tok::bytes_to_byte_level(text) : std::string(text));
  if (id >= 0 && impl_->spec.tokens[id] == text) return id;
  id = impl_->find(text);
  if (id >= 0 && impl_->spec.tokens[id] == text) return id;
  for (int32_t id = 0; id < impl_->n; ++id)
    if (impl_->spec.tokens[id] == text) return id;
  return -1;
}
const TokenizerSpec& Tokenizer::spec() const { return impl_->spec; }

}  // namespace rooflm
