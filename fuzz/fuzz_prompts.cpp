// Benchmark prompt files (parse_prompt_file, src/bench/prompts.h): arbitrary bytes as the
// JSON Lines text.
#include "bench/prompts.h"
#include "fuzz_util.h"

using namespace rooflm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_only_errors("parse_prompt_file", [&] {
    const std::vector<BenchPrompt> prompts = parse_prompt_file(text, "fuzz.jsonl");
    if (prompts.empty()) fuzz::finding("parse_prompt_file returned no prompt without an error");
  });
  return 0;
}
