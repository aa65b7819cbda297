// Every input with which a fuzz target (fuzz/) found a crash, kept under tests/fixtures/fuzz/
// and replayed here through the same reader: it must now give a clear rooflm::Error.
// docs/HARDENING.md lists them with what each one broke.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

using namespace rooflm;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) { return test::source_dir() + "/tests/fixtures/fuzz/" + name; }

template <typename Fn>
void expect_error(Fn&& fn, const std::string& expect) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing '" << expect << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
  }
}

// A tokenizer directory holding `file` as tokenizer.json.
std::string tokenizer_dir_with(const std::string& file) {
  const fs::path dir = test::temp_path("fuzz_tokenizer_dir");
  fs::create_directories(dir);
  fs::copy_file(fixture(file), dir / "tokenizer.json", fs::copy_options::overwrite_existing);
  return dir.string();
}

}  // namespace

// fuzz_hf_config: a config.json that is valid JSON but not an object ("moc") made
// nlohmann's value() throw its own type_error, a message naming no file or field.
TEST(FuzzRegression, HfConfigThatIsNotAnObject) {
  expect_error([] { config_from_hf_json(fixture("hf_config_not_an_object.json")); }, "expected a JSON object, found string");
}

// The fix of the crash above covers its whole class: every field is type-checked (a field of
// the wrong type threw nlohmann's type_error too), and numbers outside int64/float are refused
// (a double cast to an integer out of range is undefined behaviour).
TEST(FuzzRegression, HfConfigFieldsOfTheWrongTypeOrRange) {
  const std::string p = test::temp_path("config.json");
  auto with = [&](const std::string& extra) {
    const std::string base = R"({"model_type": "llama", "num_hidden_layers": 1, "hidden_size": 8,
      "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 32, "vocab_size": 20)";
    std::ofstream(p) << base << extra << "}";
    return p;
  };
  EXPECT_NO_THROW(config_from_hf_json(with("")));
  expect_error([&] { config_from_hf_json(with(R"(, "tie_word_embeddings": "yes")")); },
               "field 'tie_word_embeddings' = \"yes\": expected true or false");
  expect_error([&] { config_from_hf_json(with(R"(, "head_dim": 1e300)")); }, "field 'head_dim' = 1e+300: expected an integer");
  expect_error([&] { config_from_hf_json(with(R"(, "num_key_value_heads": 18446744073709551615)")); },
               "field 'num_key_value_heads' = 18446744073709551615 is out of range");
  expect_error([&] { config_from_hf_json(with(R"(, "rms_norm_eps": 1e300)")); }, "field 'rms_norm_eps' = 1e+300 is out of range");
  expect_error([&] { config_from_hf_json(with(R"(, "rope_theta": -5)")); }, "rope frequency base -5 must be a positive");
  std::ofstream(p) << R"({"model_type": 7})";
  expect_error([&] { config_from_hf_json(p); }, "field 'model_type' = 7: expected a string");
  std::remove(p.c_str());
}

// fuzz_hf_tokenizer: a vocabulary {"a": 0, "b": 1500000000} made the reader allocate 1.5
// billion token strings (48 GB) before finding the gap in the ids.
TEST(FuzzRegression, HfTokenizerWithAHugeTokenId) {
  const std::string dir = tokenizer_dir_with("hf_tokenizer_huge_token_id.json");
  expect_error([&] { tokenizer_spec_from_hf_dir(dir); }, "token id 1 has no token (ids must be 0..1500000000 without gaps)");
  fs::remove_all(dir);
}

// Found by the bad-input survey for docs/HARDENING.md, not by the fuzzer: shape [2^32, 2^32]
// (each dimension allowed) multiplied to 2^64, which wrapped to 0 elements, so a tensor of
// 16 quintillion values with data_offsets [0, 0] was accepted.
TEST(FuzzRegression, SafetensorsShapeWhoseProductWraps) {
  expect_error([] { SafetensorsFile f(fixture("safetensors_shape_product_wraps.safetensors")); },
               "tensor 'w': element count is absurd (over 2^40)");
}
