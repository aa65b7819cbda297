// Hugging Face config.json reader (config_from_hf_json): arbitrary bytes as the file.
#include "fuzz_util.h"
#include "model/config.h"

using namespace rooflm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input(data, size);
  fuzz::expect_only_errors("config_from_hf_json", [&] {
    ModelConfig c = config_from_hf_json(path);
    if (c.q_dim() <= 0 || c.kv_dim() <= 0 || c.n_embd * c.n_vocab <= 0) fuzz::finding("config sizes overflow");
  });
  return 0;
}
