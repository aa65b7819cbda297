// Pre-tokenizer regexes for byte-level BPE, by GGUF tokenizer.ggml.pre name (internal).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rooflm::tok {

// A chain of regexes. Each one splits every piece produced by the previous one into its matches
// and the text between matches (Hugging Face Split behaviour "isolated"), as HF's
// Sequence[Digits, ByteLevel] and Split(regex) + ByteLevel(use_regex=false) do.
class PreTokenizer {
 public:
  // Throws Error for an unknown name (the message lists the known ones).
  explicit PreTokenizer(const std::string& pre);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Appends the pieces of `text` (valid UTF-8) to `out`, as views into `text`.
  void split(std::string_view text, std::vector<std::string_view>& out) const;

  static bool known(const std::string& pre);
  static std::string known_names();
  // The canonical name ("gpt2", "smollm", "qwen2", "llama-bpe") of a Hugging Face Split regex, or "".
  static std::string name_of_split_regex(const std::string& regex);

 private:
  struct Regex;
  std::vector<std::unique_ptr<Regex>> chain_;
};

}  // namespace rooflm::tok
