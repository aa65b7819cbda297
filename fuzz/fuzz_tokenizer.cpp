// Tokenizer: encode arbitrary bytes (valid or not as UTF-8) and decode arbitrary id sequences,
// on real vocabularies: SmolLM2 (byte-level BPE) and Gemma 3 (SentencePiece-style) from
// models/ when they are there, and the small tokenizers in tests/fixtures (always).
//
// Input: byte 0 picks the tokenizer (low 6 bits) and the mode (bit 6: parse special tokens,
// bit 7: decode the rest as little-endian 16-bit ids instead of encoding it as text).
#include <filesystem>
#include <memory>

#include "fuzz_util.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

using namespace rooflm;

namespace {

struct Entry {
  std::string name;
  std::unique_ptr<Tokenizer> tok;
  bool round_trips = false;  // decode(encode(x)) == x holds for every byte string x
};

std::vector<Entry>& tokenizers() {
  static std::vector<Entry> v;
  return v;
}

void add(const std::string& name, TokenizerSpec spec) {
  Entry e;
  e.name = name;
  e.tok = std::make_unique<Tokenizer>(std::move(spec));
  // tokenizer.h: byte-level BPE round-trips any bytes when all 256 byte tokens exist.
  if (e.tok->spec().model == "gpt2") {
    e.round_trips = true;
    for (int b = 0; b < 256; b++) {
      const std::string s(1, (char)b);
      if (e.tok->decode(e.tok->encode(s, false, false)) != s) e.round_trips = false;
    }
  }
  std::fprintf(stderr, "fuzz_tokenizer: %s (%d tokens%s)\n", name.c_str(), e.tok->n_vocab(),
               e.round_trips ? ", round trip checked" : "");
  tokenizers().push_back(std::move(e));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string root = fuzz::source_dir();
  for (const char* m : {"SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"}) {
    const std::string p = root + "/models/" + m;
    if (std::filesystem::exists(p)) add(m, tokenizer_spec_from_gguf(GGUFFile(p)));
  }
  add("tiny_gpt2", tokenizer_spec_from_hf_dir(root + "/tests/fixtures/tiny_gpt2_tokenizer"));
  for (const char* v : {"gpt2", "smollm", "llama-bpe", "qwen2", "spm-first", "spm-legacy"})
    add(v, tokenizer_spec_from_hf_dir(root + "/tests/fixtures/tokenizer_variants/" + v));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Entry& e = tokenizers()[(data[0] & 0x3F) % tokenizers().size()];
  const Tokenizer& tok = *e.tok;
  const bool special = data[0] & 0x40;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  if (data[0] & 0x80) {
    // Arbitrary ids, some outside the vocabulary: those must be an Error, the rest decode.
    std::vector<int32_t> ids;
    for (size_t i = 0; i + 1 < text.size(); i += 2) {
      const int32_t raw = (int32_t)((uint8_t)text[i] | (uint8_t)text[i + 1] << 8);
      ids.push_back(raw % (tok.n_vocab() + 2) - 1);
    }
    fuzz::expect_only_errors("decode", [&] { tok.decode(ids); });
    return 0;
  }

  std::vector<int32_t> ids;
  fuzz::expect_only_errors("encode", [&] { ids = tok.encode(text, true, special); });
  for (int32_t id : ids)
    if (id < 0 || id >= tok.n_vocab()) fuzz::finding(e.name + ": encode produced an id outside the vocabulary");
  // The piece cache must not change the result.
  std::vector<int32_t> again;
  fuzz::expect_only_errors("encode", [&] { again = tok.encode(text, true, special); });
  if (again != ids) fuzz::finding(e.name + ": encoding the same text twice gave different ids");
  std::string back;
  fuzz::expect_only_errors("decode", [&] { back = tok.decode(tok.encode(text, false, special)); });
  if (e.round_trips && back != text) fuzz::finding(e.name + ": decode(encode(x)) != x");
  return 0;
}
