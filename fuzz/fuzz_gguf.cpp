// GGUF reader: parse arbitrary bytes, then walk what a model load walks: every metadata value
// through the typed accessors, every tensor's bytes, the model configuration and the tokenizer
// built from the metadata (and a little encoding/decoding with it).
#include <cstring>

#include "fuzz_util.h"
#include "io/gguf.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

using namespace rooflm;

namespace {

void walk_metadata(const GGUFFile& f) {
  for (const auto& kv : f.metadata()) {
    const std::string& key = kv.first;  // (clang 14 lambdas cannot capture structured bindings)
    const GGUFValue& v = kv.second;
    // Every accessor on every key: the wrong type must be an Error, never a bad variant access.
    fuzz::expect_only_errors("get_string", [&] { f.get_string(key); });
    fuzz::expect_only_errors("get_int", [&] { f.get_int(key); });
    fuzz::expect_only_errors("get_float", [&] { f.get_float(key); });
    fuzz::expect_only_errors("get_bool", [&] { f.get_bool(key, false); });
    fuzz::expect_only_errors("get_string_array", [&] { f.get_string_array(key); });
    fuzz::expect_only_errors("get_float_array", [&] { f.get_float_array(key); });
    fuzz::expect_only_errors("get_int_array", [&] { f.get_int_array(key); });
    if (v.is_array() && !std::holds_alternative<std::vector<GGUFValue>>(v.v)) fuzz::finding("array without elements");
  }
}

void walk_tensors(const GGUFFile& f) {
  const uint8_t* begin = f.mapped().data();
  const uint8_t* end = begin + f.file_size();
  for (const GGUFTensor& t : f.tensors()) {
    // The mapping is not ASan-tracked memory, so check the bounds the reader promised here.
    if (t.nbytes > 0 && (t.data < begin || t.data > end || t.nbytes > (size_t)(end - t.data)))
      fuzz::finding("tensor '" + t.name + "' lies outside the file");
    const DTypeInfo& info = dtype_info(t.type);
    if (t.n_elements() <= 0 || t.n_elements() % info.block_size != 0) fuzz::finding("bad element count");
    if (t.nbytes != (size_t)(t.n_elements() / info.block_size) * (size_t)info.type_size) fuzz::finding("bad nbytes");
    if (row_bytes(t.type, t.cols()) * (size_t)t.rows() != t.nbytes) fuzz::finding("rows * row bytes != nbytes");
    if (t.nbytes > 0) {
      volatile uint8_t sink = t.data[0];
      sink = t.data[t.nbytes - 1];
      (void)sink;
    }
    if (f.find_tensor(t.name) != &t) fuzz::finding("tensor index does not find '" + t.name + "'");
  }
}

void use_tokenizer(const GGUFFile& f) {
  TokenizerSpec spec = tokenizer_spec_from_gguf(f);
  Tokenizer tok(std::move(spec));
  const std::string text = "Hello world! 123 \xC3\xA9t\xC3\xA9 <|im_start|>user\n\xFF";
  for (bool special : {false, true}) {
    const std::vector<int32_t> ids = tok.encode(text, true, special);
    for (int32_t id : ids)
      if (id < 0 || id >= tok.n_vocab()) fuzz::finding("encode produced an id outside the vocabulary");
    tok.decode(ids);
  }
  fuzz::expect_only_errors("apply_chat_template", [&] { tok.apply_chat_template({{"user", "hi"}}, true); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input(data, size);
  fuzz::expect_only_errors("gguf", [&] {
    GGUFFile f(path);
    walk_metadata(f);
    walk_tensors(f);
    fuzz::expect_only_errors("config_from_gguf", [&] {
      ModelConfig c = config_from_gguf(f);
      // validate() promised sane, consistent sizes: the products a loader computes must fit.
      if (c.q_dim() <= 0 || c.kv_dim() <= 0 || c.n_embd * c.n_vocab <= 0) fuzz::finding("config sizes overflow");
    });
    fuzz::expect_only_errors("tokenizer", [&] { use_tokenizer(f); });
  });
  return 0;
}
