// Loads a GGUF model, generates greedily with speculative decoding, and streams the text.
//   generate MODEL.gguf ["prompt"] [max tokens]
#include <rooflm/rooflm.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [PROMPT] [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  const std::string prompt = argc > 2 ? argv[2] : "Write a haiku about the sea.";
  try {
    rooflm::api::Model model = rooflm::api::Model::load(argv[1]);

    rooflm::api::GenerateOptions opts;
    opts.n_predict = argc > 3 ? std::atoll(argv[3]) : 64;
    opts.sampling.temperature = 0;                   // greedy: the same text as plain decoding
    opts.spec.mode = rooflm::api::SpecMode::Staged;  // n-gram drafts, verified as a tree

    rooflm::api::TextStream text(model);  // never prints half a UTF-8 character
    auto print = [&](int32_t token) {
      const std::string s = text.push(token);
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fflush(stdout);
    };
    const rooflm::api::GenerateResult r = rooflm::api::generate(model, model.chat_prompt(prompt), opts, print);
    const std::string rest = text.flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);

    std::fprintf(stderr, "\n[%zu tokens in %lld target steps, drafter %s, stop: %s]\n", r.tokens.size(),
                 (long long)r.target_steps, r.drafter.c_str(), r.stop_reason.c_str());
    return 0;
  } catch (const rooflm::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
