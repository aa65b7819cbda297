// Hugging Face tokenizer directory reader (tokenizer_spec_from_hf_dir). The input holds up to
// four files separated by NUL bytes: tokenizer.json, tokenizer_config.json, vocab.json,
// merges.txt; an empty part means that file is absent (so an input starting with NUL reads
// GPT-2's vocab.json + merges.txt). The tokenizer it describes is then built and used.
#include <filesystem>
#include <fstream>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"

using namespace rooflm;
namespace fs = std::filesystem;

namespace {

const fs::path& work_dir() {
  static const fs::path d = [] {
    fs::path p = fs::temp_directory_path() / ("rooflm_fuzz_hf_tokenizer_" + std::to_string(::getpid()));
    fs::create_directories(p);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(work_dir(), ec);
    });
    return p;
  }();
  return d;
}

void write(const fs::path& p, std::string_view s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(s.data(), (std::streamsize)s.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kFiles[] = {"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"};
  const auto parts = fuzz::split_nul(data, size, 4);
  const fs::path& dir = work_dir();
  for (size_t i = 0; i < 4; i++) {
    std::error_code ec;
    if (i < parts.size() && !parts[i].empty()) write(dir / kFiles[i], parts[i]);
    else fs::remove(dir / kFiles[i], ec);
  }
  fuzz::expect_only_errors("tokenizer_spec_from_hf_dir", [&] {
    Tokenizer tok(tokenizer_spec_from_hf_dir(dir.string()));
    const std::vector<int32_t> ids = tok.encode("Hello world! 123 \xC3\xA9t\xC3\xA9 <s></s>\n\xFF", true, true);
    for (int32_t id : ids)
      if (id < 0 || id >= tok.n_vocab()) fuzz::finding("encode produced an id outside the vocabulary");
    tok.decode(ids);
    fuzz::expect_only_errors("apply_chat_template", [&] { tok.apply_chat_template({{"user", "hi"}}, true); });
  });
  return 0;
}
