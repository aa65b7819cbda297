// Chat templates: recognise an arbitrary template text (or format name), render an arbitrary
// conversation with it, and tokenize the result with special tokens parsed, as
// `rooflm generate --chat` does.
//
// Input, split at NUL bytes: template, BOS text, EOS text, then role, content, role, content...
// The first byte of the template part, when it is 0x01, asks for no generation prompt.
#include <memory>

#include "fuzz_util.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

using namespace rooflm;

namespace {
std::unique_ptr<Tokenizer> g_tok;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_tok = std::make_unique<Tokenizer>(tokenizer_spec_from_hf_dir(fuzz::source_dir() + "/tests/fixtures/tiny_gpt2_tokenizer"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::split_nul(data, size, 3 + 2 * 8);
  std::string_view tmpl = parts[0];
  bool add_gen = true;
  if (!tmpl.empty() && tmpl[0] == '\x01') {
    add_gen = false;
    tmpl.remove_prefix(1);
  }
  const std::string bos(parts.size() > 1 ? parts[1] : "<s>");
  const std::string eos(parts.size() > 2 ? parts[2] : "</s>");
  std::vector<ChatMessage> msgs;
  for (size_t i = 3; i < parts.size(); i += 2)
    msgs.push_back({std::string(parts[i]), i + 1 < parts.size() ? std::string(parts[i + 1]) : std::string()});

  const tok::ChatTemplateInfo info = tok::detect_chat_template(std::string(tmpl));
  fuzz::expect_only_errors("render_chat", [&] {
    const std::string text = tok::render_chat(info, msgs, add_gen, bos, eos);
    for (int32_t id : g_tok->encode(text, false, true))
      if (id < 0 || id >= g_tok->n_vocab()) fuzz::finding("encode produced an id outside the vocabulary");
  });
  return 0;
}
