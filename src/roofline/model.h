// Analytic roofline model of a decoder-only transformer forward pass.
//
// For each op class (qkv, o, up/gate/down, qk/pv, lm_head, other) and a workload (phase,
// context/prompt length, batch, number formats) it gives FLOPs, compulsory bytes, intensity
// and the roofline-predicted time max(FLOPs / peak, bytes / bandwidth), plus whole-model
// totals and tokens/s.
//
// Tokens per sequence in one forward pass: init = L (the prompt, `seq`), ar = 1 (context S =
// `seq` tokens already cached), tree:N = N candidates (context S = `seq`), draft = 1 (like ar).
// T = batch x tokens per sequence.
//
// FLOPs (a multiply-add = 2 FLOPs; biases, softmax, rope and masking are not counted):
//   linear k -> n over T tokens: 2*T*k*n.
//   qk/pv per sequence: 4 * n_head * head_dim * (#scores); #scores = init: L(L+1)/2 (causal),
//   ar: S+1, tree:N: N*(S+N) (each candidate against the cache and the tree block; the
//   tree mask is applied inside that block, as a tree-attention kernel computes it).
// Compulsory bytes ("as stored"; each counted once per forward pass):
//   weights: the op's weight matrices in the weight format, including block scales/mins
//     (q4_1 = 20 bytes per 32 weights), read once per pass and shared by the whole batch;
//   activations: each op class reads its input once (fused siblings share it: q/k/v read x
//     once, gate/up read x once) and writes its output once, in the activation format;
//     up/gate/down also writes and reads its intermediate h = act(gate) * up (T x d_ff) once;
//     the new K and V rows produced by qkv are written in the KV format;
//   qk/pv: reads Q (T x q_dim) and writes O (T x q_dim) in the activation format and reads the
//     K and V rows it attends to in the KV format: init L rows, ar S+1, tree:N S+N per sequence
//     (or N*(S+N) with TreeKv::per_candidate, where each candidate re-reads the cache, as when
//     candidates are verified as separate sequences); scores/probabilities stay on chip
//     (fused, flash-attention style) unless Workload::unfused_attention, which adds the
//     score matrix written, read by softmax, probabilities written, read by PV (4 x #scores x
//     n_head values in the activation format) as an eager implementation moves them;
//   lm_head: T_out x d in, T_out x vocab logits out (fp32); T_out = batch for init (only the
//     last prompt position needs logits) and T for ar/tree;
//   other: per layer two norms (read+write T x d, weight d) and two residual adds (read 2,
//     write 1 x T x d), final norm, embedding-row gather (T x d, weight format) and write.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "roofline/hardware.h"
#include "roofline/profiler.h"

namespace rooflm::roofline {

struct ModelShape {
  std::string name;
  int64_t n_layer = 0, d_model = 0, n_head = 0, n_kv_head = 0, head_dim = 0, d_ff = 0, vocab = 0;
  bool gated_ffn = false;        // SwiGLU-style gate + up (llama) vs one up (gpt2)
  bool tied_embeddings = false;  // lm_head shares the token embedding
  std::string native_format;     // weight format in the source file (GGUF/config), "" if unknown

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_kv_head * head_dim; }
  // Parameter count: embeddings (+ lm_head when untied) + per layer (qkv, o, FFN). Norm
  // weights, biases and learned positions are not included.
  double n_params() const;
  // Throws Error naming `origin` if a dimension is missing, not positive or inconsistent.
  void validate(const std::string& origin) const;
};

std::vector<std::string> model_preset_names();
ModelShape model_preset(const std::string& name);  // throws Error listing valid names
// Reads {arch}.block_count, .embedding_length, .attention.head_count(_kv), .attention.key_length,
// .feed_forward_length, vocab from {arch}.vocab_size or tokenizer.ggml.tokens; gated FFN from
// the presence of blk.0.ffn_gate.weight; tied embeddings from the absence of output.weight.
ModelShape model_from_gguf(const std::string& path);
// Hugging Face config.json (or a directory holding one): llama/mistral/qwen2-style keys
// (num_hidden_layers, hidden_size, ...) and GPT-2-style keys (n_layer, n_embd, ...).
ModelShape model_from_hf_config(const std::string& path);
ModelShape model_from_hf_config_text(const std::string& json_text, const std::string& origin);
// `--model`: a preset name, a .gguf file, a config.json file or a directory with config.json.
ModelShape resolve_model(const std::string& arg, const std::string& what = "model");

enum class PhaseKind { init, ar, tree, draft };
struct Phase {
  PhaseKind kind = PhaseKind::ar;
  int64_t n = 1;  // candidates for tree:N
  std::string name() const;  // "init", "ar", "tree:16", "draft"
  int64_t tokens_per_seq(int64_t seq) const;  // init: seq; ar/draft: 1; tree: n
};
Phase parse_phase(const std::string& s, const std::string& what = "phases");
std::vector<Phase> parse_phase_list(const std::string& s, const std::string& what = "phases");

struct NumberFormat {
  std::string name;       // canonical: fp32, fp16, bf16, fp8, int8, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, ...
  double bytes_per_value; // including block scales/mins
};
// Accepts fp32/f32, fp16/f16, bf16, fp8, int8 and the GGUF block formats by name.
NumberFormat number_format(const std::string& name, const std::string& what = "format");

enum class TreeKv { shared, per_candidate };

struct Workload {
  Phase phase;
  int64_t seq = 512;    // init: prompt length L; ar/tree/draft: context length S
  int64_t batch = 1;
  NumberFormat weights{"fp16", 2}, kv{"fp16", 2}, act{"fp16", 2};
  TreeKv tree_kv = TreeKv::shared;
  bool unfused_attention = false;  // scores/probabilities go through memory (eager attention)
  double tokens_per_pass = 1;  // tree: expected tokens accepted per verification pass (for tokens/s)
};

struct OpEstimate {
  prof::OpClass op;
  double flops = 0;                                    // whole model (all layers), one pass
  double weight_bytes = 0, act_bytes = 0, kv_bytes = 0;  // whole model, one pass
  double time_s = 0;                                   // sum over layers of max(F/peak, B/bw)
  bool compute_bound = false;
  double bytes() const { return weight_bytes + act_bytes + kv_bytes; }
  double intensity() const { return bytes() > 0 ? flops / bytes() : 0; }
  double perf() const { return time_s > 0 ? flops / time_s : 0; }  // attainable FLOP/s
};

struct ModelEstimate {
  ModelShape model;
  Workload workload;
  double peak = 0, bandwidth = 0;   // roofs used
  std::string compute_roof;         // its name
  std::vector<OpEstimate> ops;      // one per op class, in enum order
  double flops = 0, bytes = 0, time_s = 0;
  double intensity() const { return bytes > 0 ? flops / bytes : 0; }
  double perf() const { return time_s > 0 ? flops / time_s : 0; }
  // init: prompt tokens processed per second (prefill throughput); ar/draft: batch / time;
  // tree: batch * tokens_per_pass / time.
  double tokens_per_s = 0;
  const OpEstimate& op(prof::OpClass c) const;
};

// Per-op FLOPs and bytes only (no hardware).
std::vector<OpEstimate> op_costs(const ModelShape& m, const Workload& w);
// Full estimate with roofline times on the given roofs.
ModelEstimate estimate(const ModelShape& m, const Workload& w, double peak_flops, double bandwidth,
                       const std::string& compute_roof_name = "");
ModelEstimate estimate(const ModelShape& m, const Workload& w, const HardwareSpec& hw, const ComputeRoof& roof);

}  // namespace rooflm::roofline
