// Model hyper-parameters and the switches that make one forward pass serve every
// supported architecture (llama, qwen2, gpt2, gemma3): they differ by configuration,
// not by copies of the forward pass.
#pragma once
#include <cstdint>
#include <string>

namespace rooflm {

class GGUFFile;

enum class NormKind { RMS, Layer };
enum class FFNKind { SwiGLU, GeGLU, GELU };       // gated SiLU, gated GELU, plain GELU MLP
enum class RopeKind { None, Adjacent, NeoX };      // pairs (2i, 2i+1) vs (i, i + d/2)

struct ModelConfig {
  std::string arch;          // "llama", "qwen2", "gpt2", "gemma3"
  std::string name;
  int64_t n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0;
  int64_t n_ctx_train = 0;
  float norm_eps = 1e-5f;
  NormKind norm = NormKind::RMS;
  FFNKind ffn = FFNKind::SwiGLU;
  RopeKind rope = RopeKind::Adjacent;
  int64_t rope_dim = 0;         // rotated dims per head (== head_dim unless partial rotary)
  float rope_theta = 10000.0f;
  float rope_theta_local = 0;   // gemma3 sliding-window layers use another base
  bool learned_pos = false;     // gpt2 position embeddings
  bool qkv_bias = false;        // qwen2, gpt2
  bool out_bias = false;        // gpt2: biases on o, up, down and norms
  bool tied_embeddings = false;
  bool qk_norm = false;         // gemma3: RMSNorm on q and k per head
  bool post_norms = false;      // gemma3: norms after attention and FFN outputs
  float embed_scale = 1.0f;     // gemma: sqrt(n_embd)
  float attn_scale = 0.0f;      // 0 = 1/sqrt(head_dim)
  int64_t sliding_window = 0;   // 0 = none
  int sliding_period = 0;       // gemma3: layers with (il + 1) % period != 0 use the window
  // Draft heads (docs/DRAFT_HEADS.md): the input row is fc(concat(embedding, target feature))
  // and the logits cover only the draft vocabulary (n_out rows of the output matrix).
  bool draft_head = false;
  int64_t n_out = 0;            // logits per row; 0 = n_vocab
  // GGUF general.synthetic: random weights of a real architecture's shapes
  // (scripts/make_synthetic_model.py), for speed measurements only; its text is meaningless.
  bool synthetic = false;

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
  int64_t n_logits() const { return n_out > 0 ? n_out : n_vocab; }
  bool layer_is_sliding(int64_t il) const {
    return sliding_window > 0 && sliding_period > 0 && (il + 1) % sliding_period != 0;
  }
  // Throws Error naming `source` when dimensions are missing, absurd or inconsistent.
  void validate(const std::string& source) const;
};

ModelConfig config_from_gguf(const GGUFFile& f);
// Hugging Face config.json of a GPT-2 or Llama-family model directory.
ModelConfig config_from_hf_json(const std::string& config_json_path);

}  // namespace rooflm
