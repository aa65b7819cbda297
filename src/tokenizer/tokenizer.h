// Tokenizer: exact Hugging Face tokenization (ids equal to `tokenizers`/`transformers`) for
//   - byte-level BPE ("gpt2" model: GPT-2, SmolLM2, Qwen2, Llama 3), merges by rank, with the
//     pre-tokenizer regex named by `pre` (PCRE2, UTF + Unicode properties), and
//   - SentencePiece-style BPE ("llama" model: Gemma, Llama 2/TinyLlama): spaces become U+2581,
//     optional space prefix, byte fallback <0xNN>, merges by rank or, without merges, by score.
// built from GGUF metadata (tokenizer.ggml.*) or from a Hugging Face tokenizer directory.
//
// Special tokens. Tokens of type 3 (control, e.g. <|im_start|>, <start_of_turn>) and the model's
// BOS/EOS/UNK/PAD tokens are matched in the text only when parse_special is true; tokens of type 4
// (user-defined, e.g. Gemma's "\n\n" or "<table>") are always matched, as Hugging Face does for
// non-special added tokens. Matching is leftmost, then longest.
//
// Invalid UTF-8 (the rule, also quoted by the README):
//   encode() never fails on bad UTF-8. The input is cut into maximal valid UTF-8 runs (RFC 3629:
//   no overlong forms, no surrogates, nothing above U+10FFFF) and single invalid bytes. Each
//   invalid byte is a piece of its own that is never merged with its neighbours, and the valid
//   runs around it are tokenized as if the bad byte were a piece boundary:
//     - byte-level BPE: the invalid byte becomes the token of that byte (GPT-2 byte alphabet), so
//       decode(encode(x)) == x holds for any byte string when the vocabulary has all 256 byte
//       tokens (GPT-2, Qwen2, Llama 3 do). A byte without a token is dropped, which is also what
//       Hugging Face does for valid text (SmolLM2 lacks 21 byte tokens: 0x04, 0x06, 0x13, 0x14,
//       0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2, 0xF5..0xFF);
//     - SentencePiece-style: the invalid byte becomes its byte-fallback token <0xNN>, or UNK when
//       the vocabulary has no byte tokens (then the round trip loses that byte).
//   decode() returns the raw bytes of the tokens (it does not replace invalid sequences with
//   U+FFFD, unlike Hugging Face's decode); a single token may hold part of a UTF-8 character.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rooflm {

class GGUFFile;

// How add_space_prefix applies to a SentencePiece-style text (ignored for "gpt2").
enum class SpacePrefix {
  First,       // Hugging Face Metaspace prepend_scheme "first" (transformers' GGUF conversion, Llama
               // non-legacy): U+2581 is prepended to the text segment at offset 0 unless it already
               // starts with a space
  Always,      // Metaspace "always": every text segment between special tokens, unless it starts with a space
  Normalizer,  // legacy Llama tokenizer.json normalizer Prepend("▁"): every non-empty segment, unconditionally
};

// Token types as in GGUF tokenizer.ggml.token_type.
enum TokenType : int32_t {
  kTokenNormal = 1, kTokenUnknown = 2, kTokenControl = 3, kTokenUserDefined = 4, kTokenUnused = 5, kTokenByte = 6,
};

struct TokenizerSpec {  // everything a tokenizer needs, format-independent
  std::string model;    // "gpt2" = byte-level BPE, "llama" = SentencePiece-style BPE
  std::string pre;      // pre-tokenizer (GGUF tokenizer.ggml.pre): "gpt2"/"default", "smollm", "qwen2",
                        // "llama-bpe" (Llama 3) and their aliases; ignored for "llama"
  std::vector<std::string> tokens;    // byte-level vocabularies spell tokens in the GPT-2 byte alphabet
  std::vector<float> scores;          // SPM merge priority when there are no merges (higher first); may be empty
  std::vector<int32_t> token_types;   // TokenType per token; may be empty (then all normal)
  std::vector<std::string> merges;    // "a b", highest priority first
  int32_t bos_id = -1, eos_id = -1, eot_id = -1, pad_id = -1, unk_id = -1;
  bool add_bos = false, add_eos = false, add_space_prefix = false;
  SpacePrefix space_prefix = SpacePrefix::First;
  bool ignore_merges = false;  // HF BPE ignore_merges (Llama 3): a pre-token that is itself a token is not merged
  std::string chat_template;  // raw Jinja text from the file (used to pick a known format), or a
                              // format name: "chatml", "gemma", "llama3", "llama2", "zephyr"
};

// GGUF keys read: tokenizer.ggml.{model, pre, tokens, scores, token_type, merges, bos_token_id,
// eos_token_id, eot_token_id, unknown_token_id, padding_token_id, add_bos_token, add_eos_token,
// add_space_prefix}, tokenizer.chat_template, general.architecture. Throws Error naming the key.
// Gemma files (general.architecture gemma*) are adjusted as transformers does: whitespace-only
// tokens stored with real spaces are respelled with U+2581 and made normal tokens, and the merge
// order follows token ids (scores[i] = -i).
TokenizerSpec tokenizer_spec_from_gguf(const GGUFFile& f);
// tokenizer.json (+ tokenizer_config.json) of GPT-2 / Llama-family HF dirs (BPE models), or
// vocab.json + merges.txt (GPT-2 byte-level BPE).
TokenizerSpec tokenizer_spec_from_hf_dir(const std::string& dir);

struct ChatMessage {
  std::string role, content;
};

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerSpec spec);  // validates; throws Error naming the bad field/key
  ~Tokenizer();
  Tokenizer(const Tokenizer&);
  Tokenizer& operator=(const Tokenizer&);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // add_bos: prepend BOS when the model's tokenizer adds it (spec.add_bos and a BOS id exist),
  // like Hugging Face's add_special_tokens=True; encode never appends EOS. Pass false for text
  // rendered by apply_chat_template (templates write BOS themselves).
  // parse_special: match control/BOS/EOS tokens written in the text (user-defined tokens always match).
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;
  // Bytes of one token: byte-level tokens mapped back through the GPT-2 byte alphabet, SPM U+2581 ->
  // space and <0xNN> -> that byte; special tokens as their text. For streaming output.
  std::string token_piece(int32_t id) const;
  // Concatenated pieces; SPM tokenizers with a space prefix drop one leading space (as HF's decoder does).
  std::string decode(const std::vector<int32_t>& ids) const;

  // Renders a conversation in the model's format, natively (no Jinja): ChatML (SmolLM2, Qwen; with
  // the template's default system prompt when the first message is not "system"), Gemma
  // (<start_of_turn>), Llama 3, Llama 2 ([INST] <<SYS>>), Zephyr/TinyLlama (<|user|>). Throws Error
  // naming the known formats when the template is none of them, or when there is no template.
  std::string apply_chat_template(const std::vector<ChatMessage>& msgs, bool add_generation_prompt) const;
  bool has_chat_template() const;
  std::string chat_format() const;  // "chatml", "gemma", "llama3", "llama2", "zephyr", or "" if unknown/none

  bool is_eog(int32_t id) const;  // EOS, EOT, and end-of-turn tokens present in the vocabulary
  bool is_special(int32_t id) const;  // control (type 3) or BOS/EOS/UNK/PAD
  int32_t bos() const;
  int32_t eos() const;
  int32_t n_vocab() const;
  int32_t token_id(std::string_view token_text) const;  // exact vocabulary entry, -1 if absent
  const TokenizerSpec& spec() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace rooflm
