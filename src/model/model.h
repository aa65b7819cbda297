// A loaded model: configuration, weight views into the mapped file(s), tokenizer.
// Load from a .gguf file or a Hugging Face directory (config.json + *.safetensors +
// tokenizer files). Weights are used in place from the map; the only copies are those a
// format forces (HF GPT-2 Conv1D weights are stored transposed; non-f32 norm vectors are
// widened) or that a kernel asks for (repacking), and they are reported by owned_bytes().
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "kernels/matmul.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

namespace rooflm {

class GGUFFile;
class SafetensorsFile;

struct LayerWeights {
  const float* attn_norm = nullptr;
  const float* attn_norm_b = nullptr;
  WeightMatrix wqkv;                 // fused (gpt2); else wq, wk, wv
  WeightMatrix wq, wk, wv;
  const float* bqkv = nullptr;
  const float *bq = nullptr, *bk = nullptr, *bv = nullptr;
  const float* q_norm = nullptr;     // gemma3 per-head norms
  const float* k_norm = nullptr;
  WeightMatrix wo;
  const float* bo = nullptr;
  const float* post_attn_norm = nullptr;
  const float* ffn_norm = nullptr;
  const float* ffn_norm_b = nullptr;
  WeightMatrix w_gate, w_up, w_down;
  const float* b_up = nullptr;
  const float* b_down = nullptr;
  const float* post_ffn_norm = nullptr;
};

struct Weights {
  WeightMatrix tok_embd;   // [n_vocab][n_embd]
  WeightMatrix pos_embd;   // gpt2: [n_ctx_train][n_embd]
  const float* out_norm = nullptr;
  const float* out_norm_b = nullptr;
  WeightMatrix output;     // lm_head [n_vocab][n_embd] (== tok_embd when tied)
  std::vector<LayerWeights> layers;
  // Draft heads only: the input projection [n_embd][2 n_embd] over concat(embedding,
  // feature), and the target token of each output row (tok_embd is the target's).
  WeightMatrix fc;
  std::vector<int32_t> draft_vocab;
};

class Model {
 public:
  // `path` is a .gguf file or a Hugging Face model directory.
  static std::unique_ptr<Model> load(const std::string& path);
  // A draft head (docs/DRAFT_HEADS.md) for `target`, which must outlive it. Refuses a head
  // made for another model with one line naming both.
  static std::unique_ptr<Model> load_draft_head(const std::string& path, const Model& target);
  // Whether `path` is a GGUF file holding a draft head (reads only its header).
  static bool is_draft_head(const std::string& path);
  ~Model();

  const ModelConfig& config() const { return config_; }
  const Weights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }  // a draft head has none
  // weights_hash (io/gguf.h) of a GGUF model's file; computed on first use.
  const std::string& weights_hash() const;
  const std::string& path() const { return path_; }
  size_t file_bytes() const { return file_bytes_; }     // bytes of the mapped weight files
  size_t weight_bytes() const;                          // bytes of all matrices as stored
  size_t owned_bytes() const { return owned_bytes_; }   // bytes copied/repacked at load
  double load_ms() const { return load_ms_; }

 private:
  Model() = default;
  void load_gguf(const std::string& path, const Model* head_target = nullptr);
  void load_hf_dir(const std::string& dir);
  const float* owned_f32(std::vector<float> v);
  // Repacks every quantized matrix once into the kernels' tile layout (a copy, counted in
  // owned_bytes) and releases the mapped pages the copies replace.
  void prepare_for_kernels(const MappedFile* const* files, size_t n_files);

  ModelConfig config_;
  Weights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string path_;
  size_t file_bytes_ = 0;
  size_t owned_bytes_ = 0;
  double load_ms_ = 0;
  mutable std::string weights_hash_;
  std::unique_ptr<GGUFFile> gguf_;
  std::vector<std::unique_ptr<SafetensorsFile>> safetensors_;
  std::vector<std::vector<float>> owned_vectors_;
};

}  // namespace rooflm
