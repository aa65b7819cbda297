#include "model/config.h"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/gguf.h"

namespace rooflm {

void ModelConfig::validate(const std::string& source) const {
  auto check = [&](const char* field, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi) fail(source, ": ", field, " = ", v, " is out of range (expected ", lo, "..", hi, ")");
  };
  check("block_count (layers)", n_layer, 1, 1024);
  check("embedding_length", n_embd, 1, 1 << 17);
  check("attention.head_count", n_head, 1, 1024);
  check("attention.head_count_kv", n_head_kv, 1, n_head);
  check("head dimension", head_dim, 1, 4096);
  check("feed_forward_length", n_ff, 1, 1 << 19);
  check("vocabulary size", n_vocab, 1, 1 << 22);
  check("context_length", n_ctx_train, 1, 1 << 24);
  if (n_head % n_head_kv != 0)
    fail(source, ": attention.head_count ", n_head, " is not a multiple of head_count_kv ", n_head_kv);
  if (rope != RopeKind::None && (rope_dim <= 0 || rope_dim > head_dim || rope_dim % 2 != 0))
    fail(source, ": rope dimension ", rope_dim, " must be even and at most the head dimension ", head_dim);
  if (!(norm_eps > 0.0f) || norm_eps > 1.0f) fail(source, ": norm epsilon ", norm_eps, " is out of range");
  if (rope != RopeKind::None && !(rope_theta > 0.0f && std::isfinite(rope_theta)))
    fail(source, ": rope frequency base ", rope_theta, " must be a positive finite number");
}

ModelConfig config_from_gguf(const GGUFFile& f) {
  ModelConfig c;
  c.arch = f.get_string("general.architecture");
  c.name = f.get_string("general.name", c.arch);
  c.synthetic = f.get_bool("general.synthetic", false);
  const std::string a = c.arch + ".";
  // A double outside float's range converted to float is undefined behaviour: refuse it.
  auto get_float = [&](const std::string& key, double fallback) -> float {
    const double d = f.get_float(key, fallback);
    if (!(std::fabs(d) <= FLT_MAX)) fail(f.path(), ": metadata '", key, "' = ", d, " is out of range");
    return (float)d;
  };
  if (c.arch != "llama" && c.arch != "qwen2" && c.arch != "gpt2" && c.arch != "gemma3" && c.arch != "rooflm-head")
    fail(f.path(), ": general.architecture '", c.arch, "' is not supported (expected llama, qwen2, gpt2 or gemma3)");

  c.n_layer = f.get_int(a + "block_count");
  c.n_embd = f.get_int(a + "embedding_length");
  c.n_ff = f.get_int(a + "feed_forward_length");
  c.n_head = f.get_int(a + "attention.head_count");
  c.n_head_kv = f.get_int(a + "attention.head_count_kv", c.n_head);
  c.n_ctx_train = f.get_int(a + "context_length");
  c.head_dim = f.get_int(a + "attention.key_length", c.n_head > 0 ? c.n_embd / c.n_head : 0);
  if (f.get_int(a + "attention.value_length", c.head_dim) != c.head_dim)
    fail(f.path(), ": attention.value_length differs from key_length (not supported)");
  if (const GGUFValue* v = f.find("tokenizer.ggml.tokens"); v && v->is_array())
    c.n_vocab = (int64_t)std::get<std::vector<GGUFValue>>(v->v).size();
  c.n_vocab = f.get_int(a + "vocab_size", c.n_vocab);
  c.rope_dim = f.get_int(a + "rope.dimension_count", c.head_dim);
  c.rope_theta = get_float(a + "rope.freq_base", 10000.0);

  if (c.arch == "gpt2") {
    c.norm = NormKind::Layer;
    c.norm_eps = get_float(a + "attention.layer_norm_epsilon", 1e-5);
    c.ffn = FFNKind::GELU;
    c.rope = RopeKind::None;
    c.learned_pos = true;
    c.qkv_bias = c.out_bias = true;
  } else {
    c.norm_eps = get_float(a + "attention.layer_norm_rms_epsilon", 1e-5);
    if (c.arch == "rooflm-head") {
      c.rope = RopeKind::NeoX;  // written by scripts/train_head.py from PyTorch's rotate_half layout
      c.draft_head = true;
      c.n_ctx_train = 1 << 24;  // RoPE has no table to outgrow: the head follows any target context
      c.n_out = f.get_int(a + "draft_vocab_size");
      if (c.n_out < 1 || c.n_out > c.n_vocab)
        fail(f.path(), ": metadata '", a, "draft_vocab_size' = ", c.n_out, " must be 1..vocab_size (", c.n_vocab, ")");
    } else if (c.arch == "llama") {
      c.rope = RopeKind::Adjacent;  // llama.cpp's converter permutes Q/K for adjacent pairs
    } else if (c.arch == "qwen2") {
      c.rope = RopeKind::NeoX;
      c.qkv_bias = true;
    } else {  // gemma3
      c.rope = RopeKind::NeoX;
      c.ffn = FFNKind::GeGLU;
      c.qk_norm = c.post_norms = true;
      c.embed_scale = std::sqrt((float)c.n_embd);
      c.sliding_window = f.get_int(a + "attention.sliding_window", 512);
      c.sliding_period = 6;          // gemma3: five local layers, then one global
      c.rope_theta_local = 10000.0f; // base of the local (sliding) layers
    }
  }
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  c.validate(f.path());
  return c;
}

ModelConfig config_from_hf_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, ": cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    fail(path, ": invalid JSON (", e.what(), ")");
  }
  if (!j.is_object()) fail(path, ": expected a JSON object, found ", j.type_name());
  // Fields are read with explicit type checks: nlohmann's value()/get() would throw its own
  // type_error (a message naming no field), and a double cast to an integer is undefined when
  // the number is out of range. A null field counts as absent (HF writes "n_inner": null).
  auto field = [&](std::initializer_list<const char*> keys, const char*& found) -> const nlohmann::json* {
    for (const char* k : keys) {
      auto it = j.find(k);
      if (it != j.end() && !it->is_null()) {
        found = k;
        return &*it;
      }
    }
    found = *keys.begin();
    return nullptr;
  };
  auto get_int = [&](std::initializer_list<const char*> keys, bool required, int64_t fallback) -> int64_t {
    const char* k;
    const nlohmann::json* v = field(keys, k);
    if (!v) {
      if (required) fail(path, ": field '", k, "' is missing");
      return fallback;
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > (uint64_t)INT64_MAX)
      fail(path, ": field '", k, "' = ", v->dump(), " is out of range");
    if (!v->is_number_integer()) fail(path, ": field '", k, "' = ", v->dump(), ": expected an integer");
    return v->get<int64_t>();
  };
  auto get_float = [&](std::initializer_list<const char*> keys, double fallback) -> float {
    const char* k;
    const nlohmann::json* v = field(keys, k);
    if (!v) return (float)fallback;
    if (!v->is_number()) fail(path, ": field '", k, "' = ", v->dump(), ": expected a number");
    const double d = v->get<double>();
    if (!(std::fabs(d) <= FLT_MAX)) fail(path, ": field '", k, "' = ", v->dump(), " is out of range");
    return (float)d;
  };
  auto get_bool = [&](const char* key, bool fallback) -> bool {
    const char* k;
    const nlohmann::json* v = field({key}, k);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(path, ": field '", k, "' = ", v->dump(), ": expected true or false");
    return v->get<bool>();
  };
  ModelConfig c;
  const char* k;
  const nlohmann::json* mt = field({"model_type"}, k);
  if (mt && !mt->is_string()) fail(path, ": field 'model_type' = ", mt->dump(), ": expected a string");
  c.arch = mt ? mt->get<std::string>() : "";
  c.name = c.arch;
  if (c.arch == "gpt2") {
    c.n_layer = get_int({"n_layer"}, true, 0);
    c.n_embd = get_int({"n_embd"}, true, 0);
    c.n_head = get_int({"n_head"}, true, 0);
    c.n_head_kv = c.n_head;
    c.n_ff = get_int({"n_inner"}, false, 0);
    if (c.n_ff <= 0 && c.n_embd > 0 && c.n_embd <= (1 << 17)) c.n_ff = 4 * c.n_embd;  // "n_inner": null means 4 * n_embd
    c.n_ctx_train = get_int({"n_positions", "n_ctx"}, true, 0);
    c.n_vocab = get_int({"vocab_size"}, true, 0);
    c.norm_eps = get_float({"layer_norm_epsilon"}, 1e-5);
    c.head_dim = c.n_head > 0 ? c.n_embd / c.n_head : 0;
    c.norm = NormKind::Layer;
    c.ffn = FFNKind::GELU;
    c.rope = RopeKind::None;
    c.learned_pos = true;
    c.qkv_bias = c.out_bias = true;
    c.tied_embeddings = true;
  } else if (c.arch == "llama" || c.arch == "qwen2") {
    c.n_layer = get_int({"num_hidden_layers"}, true, 0);
    c.n_embd = get_int({"hidden_size"}, true, 0);
    c.n_head = get_int({"num_attention_heads"}, true, 0);
    c.n_head_kv = get_int({"num_key_value_heads"}, false, c.n_head);
    c.n_ff = get_int({"intermediate_size"}, true, 0);
    c.n_ctx_train = get_int({"max_position_embeddings"}, true, 0);
    c.n_vocab = get_int({"vocab_size"}, true, 0);
    c.norm_eps = get_float({"rms_norm_eps"}, 1e-6);
    c.head_dim = get_int({"head_dim"}, false, c.n_head > 0 ? c.n_embd / c.n_head : 0);
    c.rope_theta = get_float({"rope_theta"}, 10000.0);
    c.rope = RopeKind::NeoX;  // HF weights are not permuted: rotate_half layout
    c.qkv_bias = c.arch == "qwen2" || get_bool("attention_bias", false);
    c.tied_embeddings = get_bool("tie_word_embeddings", c.arch == "qwen2");
    if (field({"rope_scaling"}, k)) fail(path, ": rope_scaling is not supported yet");
  } else {
    fail(path, ": model_type '", c.arch, "' is not supported for Hugging Face directories (expected gpt2, llama or qwen2)");
  }
  c.rope_dim = c.head_dim;
  c.validate(path);
  return c;
}

}  // namespace rooflm
