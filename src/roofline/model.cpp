#include "roofline/model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/dtype.h"
#include "core/error.h"
#include "io/gguf.h"
#include "roofline/util.h"

namespace rooflm::roofline {

namespace {

struct PresetRow {
  const char* name;
  int64_t n_layer, d_model, n_head, n_kv_head, head_dim, d_ff, vocab;
  bool gated, tied;
};

// Published dimensions:
//  GPT-2 family: Radford et al. 2019 / Hugging Face configs (openai-community/gpt2*):
//   n_ctx 1024, vocab 50257, d_ff = 4 d, tied embeddings, GELU MLP (no gate).
//  LLaMA 1: Touvron et al. 2023, Table 2 (7B: 32 x 4096 x 32 heads; 13B: 40 x 5120 x 40;
//   33B: 60 x 6656 x 52; 65B: 80 x 8192 x 64), SwiGLU d_ff from the released configs
//   (11008, 13824, 17920, 22016), vocab 32000, untied lm_head.
//  Llama 2 70B: 80 x 8192, 64 heads, 8 KV heads (GQA), d_ff 28672, vocab 32000.
//  SmolLM2-135M: HuggingFaceTB/SmolLM2-135M config.json: 30 layers, hidden 576, 9 heads,
//   3 KV heads, intermediate 1536, vocab 49152, tied embeddings.
const PresetRow kPresets[] = {
    {"gpt2", 12, 768, 12, 12, 64, 3072, 50257, false, true},
    {"gpt2-medium", 24, 1024, 16, 16, 64, 4096, 50257, false, true},
    {"gpt2-large", 36, 1280, 20, 20, 64, 5120, 50257, false, true},
    {"gpt2-xl", 48, 1600, 25, 25, 64, 6400, 50257, false, true},
    {"llama-7b", 32, 4096, 32, 32, 128, 11008, 32000, true, false},
    {"llama-13b", 40, 5120, 40, 40, 128, 13824, 32000, true, false},
    {"llama-33b", 60, 6656, 52, 52, 128, 17920, 32000, true, false},
    {"llama-65b", 80, 8192, 64, 64, 128, 22016, 32000, true, false},
    {"llama2-70b", 80, 8192, 64, 8, 128, 28672, 32000, true, false},
    {"smollm2-135m", 30, 576, 9, 3, 64, 1536, 49152, true, true},
};

const std::map<std::string, std::string>& aliases() {
  static const std::map<std::string, std::string> a = {
      {"gpt2-small", "gpt2"}, {"gpt2-l", "gpt2-large"}, {"gpt2-m", "gpt2-medium"},
      {"llama-30b", "llama-33b"}, {"llama2-7b", "llama-7b"}, {"llama2-13b", "llama-13b"}};
  return a;
}

std::string preset_list() {
  std::string s;
  for (const auto& p : kPresets) s += (s.empty() ? "" : ", ") + std::string(p.name);
  return s;
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && lower(s.substr(s.size() - suf.size())) == suf;
}

}  // namespace

double ModelShape::n_params() const {
  double per_layer = (double)d_model * (q_dim() + 2.0 * kv_dim()) + (double)q_dim() * d_model +
                     (gated_ffn ? 3.0 : 2.0) * d_model * d_ff;
  double emb = (double)vocab * d_model * (tied_embeddings ? 1 : 2);
  return per_layer * n_layer + emb;
}

void ModelShape::validate(const std::string& origin) const {
  auto pos = [&](int64_t v, const char* field) {
    if (v <= 0) fail(origin, ": model dimension ", field, " must be positive, got ", v);
  };
  pos(n_layer, "n_layer");
  pos(d_model, "d_model");
  pos(n_head, "n_head");
  pos(n_kv_head, "n_kv_head");
  pos(head_dim, "head_dim");
  pos(d_ff, "d_ff");
  pos(vocab, "vocab");
  if (n_head % n_kv_head != 0)
    fail(origin, ": n_head (", n_head, ") must be a multiple of n_kv_head (", n_kv_head, ")");
}

std::vector<std::string> model_preset_names() {
  std::vector<std::string> v;
  for (const auto& p : kPresets) v.push_back(p.name);
  return v;
}

ModelShape model_preset(const std::string& name) {
  std::string k = lower(name);
  if (auto it = aliases().find(k); it != aliases().end()) k = it->second;
  for (const auto& p : kPresets) {
    if (k != p.name) continue;
    ModelShape m;
    m.name = p.name;
    m.n_layer = p.n_layer, m.d_model = p.d_model, m.n_head = p.n_head, m.n_kv_head = p.n_kv_head;
    m.head_dim = p.head_dim, m.d_ff = p.d_ff, m.vocab = p.vocab, m.gated_ffn = p.gated;
    m.tied_embeddings = p.tied;
    return m;
  }
  fail("unknown model preset '", name, "' (expected one of ", preset_list(),
       ", or a .gguf file, a config.json or a directory holding one)");
}

ModelShape model_from_gguf(const std::string& path) {
  GGUFFile f(path);
  std::string arch = f.get_string("general.architecture");
  std::string origin = "GGUF '" + path + "'";
  ModelShape m;
  m.name = f.get_string("general.name", std::filesystem::path(path).stem().string());
  m.n_layer = f.get_int(arch + ".block_count");
  m.d_model = f.get_int(arch + ".embedding_length");
  m.n_head = f.get_int(arch + ".attention.head_count");
  m.n_kv_head = f.get_int(arch + ".attention.head_count_kv", m.n_head);
  if (m.n_head <= 0) fail(origin, ": ", arch, ".attention.head_count must be positive");
  m.head_dim = f.get_int(arch + ".attention.key_length", m.d_model / m.n_head);
  m.d_ff = f.get_int(arch + ".feed_forward_length");
  if (f.has(arch + ".vocab_size")) {
    m.vocab = f.get_int(arch + ".vocab_size");
  } else if (const GGUFValue* toks = f.find("tokenizer.ggml.tokens"); toks && toks->is_array()) {
    m.vocab = (int64_t)std::get<std::vector<GGUFValue>>(toks->v).size();
  } else if (const GGUFTensor* emb = f.find_tensor("token_embd.weight"); emb && emb->dims.size() >= 2) {
    m.vocab = emb->dims[1];
  } else {
    fail(origin, ": no ", arch, ".vocab_size, tokenizer.ggml.tokens or token_embd.weight to get the vocabulary size");
  }
  m.gated_ffn = f.find_tensor("blk.0.ffn_gate.weight") != nullptr || f.find_tensor("blk.0.ffn_gate_up.weight") != nullptr;
  m.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  // Weight format: the type holding most elements among the layers' 2-D weights.
  std::map<DType, double> by_type;
  for (const auto& t : f.tensors())
    if (t.name.rfind("blk.", 0) == 0 && t.dims.size() >= 2) by_type[t.type] += (double)t.n_elements();
  double best = 0;
  for (const auto& [t, n] : by_type)
    if (n > best) best = n, m.native_format = dtype_name(t);
  if (!m.native_format.empty()) m.native_format = number_format(m.native_format).name;
  m.validate(origin);
  return m;
}

ModelShape model_from_hf_config_text(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("config '", origin, "': not valid JSON: ", e.what());
  }
  std::string where = "config '" + origin + "'";
  if (!j.is_object()) fail(where, ": expected a JSON object");
  // Some multimodal configs nest the language model.
  if (j.contains("text_config") && j["text_config"].is_object() && !j.contains("num_hidden_layers")) {
    nlohmann::json inner = j["text_config"];
    if (!inner.contains("model_type") && j.contains("model_type")) inner["model_type"] = j["model_type"];
    j = inner;
  }
  auto get_int = [&](std::initializer_list<const char*> keys, bool required, int64_t fallback) -> int64_t {
    for (const char* k : keys) {
      if (!j.contains(k) || j[k].is_null()) continue;
      if (!j[k].is_number_integer()) fail(where, ": \"", k, "\" must be an integer");
      return j[k].get<int64_t>();
    }
    if (required) {
      std::string names;
      for (const char* k : keys) names += (names.empty() ? "\"" : " or \"") + std::string(k) + "\"";
      fail(where, ": missing ", names);
    }
    return fallback;
  };
  ModelShape m;
  std::string type = j.value("model_type", "");
  m.name = j.contains("_name_or_path") && j["_name_or_path"].is_string() && !j["_name_or_path"].get<std::string>().empty()
               ? j["_name_or_path"].get<std::string>()
               : (type.empty() ? std::filesystem::path(origin).parent_path().filename().string() : type);
  if (m.name.empty()) m.name = "model";
  m.n_layer = get_int({"num_hidden_layers", "n_layer", "num_layers"}, true, 0);
  m.d_model = get_int({"hidden_size", "n_embd", "d_model"}, true, 0);
  m.n_head = get_int({"num_attention_heads", "n_head"}, true, 0);
  if (m.n_head <= 0) fail(where, ": number of attention heads must be positive");
  int64_t kv_default = (j.value("multi_query", false) ? 1 : m.n_head);
  m.n_kv_head = get_int({"num_key_value_heads", "n_head_kv", "num_kv_heads"}, false, kv_default);
  m.head_dim = get_int({"head_dim"}, false, m.d_model / m.n_head);
  m.d_ff = get_int({"intermediate_size", "n_inner", "ffn_dim"}, false, 4 * m.d_model);
  m.vocab = get_int({"vocab_size"}, true, 0);
  static const std::set<std::string> kUngated = {"gpt2", "gpt_neox", "gptj", "opt", "falcon", "bloom",
                                                 "phi", "gpt_bigcode", "starcoder2", "mpt"};
  m.gated_ffn = !kUngated.count(type);
  m.tied_embeddings = j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean()
                          ? j["tie_word_embeddings"].get<bool>()
                          : true;  // transformers' PretrainedConfig default
  std::string dt = j.value("torch_dtype", j.value("dtype", ""));
  if (dt == "float16") m.native_format = "fp16";
  else if (dt == "bfloat16") m.native_format = "bf16";
  else if (dt == "float32") m.native_format = "fp32";
  m.validate(where);
  return m;
}

ModelShape model_from_hf_config(const std::string& path) {
  std::string p = path;
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) p = (std::filesystem::path(p) / "config.json").string();
  return model_from_hf_config_text(read_file(p, "model config"), p);
}

ModelShape resolve_model(const std::string& arg, const std::string& what) {
  if (arg.empty()) fail(what, ": empty (expected a preset: ", preset_list(), "; or a .gguf / config.json path)");
  std::error_code ec;
  bool exists = std::filesystem::exists(arg, ec);
  if (ends_with(arg, ".gguf")) {
    if (!exists) fail(what, ": GGUF file '", arg, "' does not exist");
    return model_from_gguf(arg);
  }
  if (ends_with(arg, ".json")) {
    if (!exists) fail(what, ": config file '", arg, "' does not exist");
    return model_from_hf_config(arg);
  }
  if (exists && std::filesystem::is_directory(arg, ec)) {
    if (!std::filesystem::exists(std::filesystem::path(arg) / "config.json", ec))
      fail(what, ": directory '", arg, "' has no config.json");
    return model_from_hf_config(arg);
  }
  std::string k = lower(arg);
  for (const auto& p : kPresets)
    if (k == p.name) return model_preset(k);
  if (aliases().count(k)) return model_preset(k);
  if (arg.find('/') != std::string::npos) fail(what, ": '", arg, "' does not exist");
  fail(what, ": unknown model '", arg, "' (expected one of ", preset_list(),
       ", or a .gguf file, a config.json or a directory holding one)");
}

// ------------------------------------------------------------------ phases, formats

std::string Phase::name() const {
  switch (kind) {
    case PhaseKind::init: return "init";
    case PhaseKind::ar: return "ar";
    case PhaseKind::draft: return "draft";
    case PhaseKind::tree: return "tree:" + std::to_string(n);
  }
  return "?";
}

int64_t Phase::tokens_per_seq(int64_t seq) const {
  switch (kind) {
    case PhaseKind::init: return seq;
    case PhaseKind::tree: return n;
    default: return 1;
  }
}

Phase parse_phase(const std::string& s0, const std::string& what) {
  std::string s = lower(s0);
  Phase p;
  if (s == "init") p.kind = PhaseKind::init;
  else if (s == "ar") p.kind = PhaseKind::ar;
  else if (s == "draft") p.kind = PhaseKind::draft;
  else if (s.rfind("tree:", 0) == 0) {
    p.kind = PhaseKind::tree;
    std::string n = s.substr(5);
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 7)
      fail(what, ": bad phase '", s0, "' (tree:N needs a positive candidate count, e.g. tree:16)");
    p.n = std::stoll(n);
    if (p.n <= 0) fail(what, ": bad phase '", s0, "' (tree:N needs N >= 1)");
  } else {
    fail(what, ": unknown phase '", s0, "' (expected init, ar, draft or tree:N, e.g. tree:16)");
  }
  return p;
}

std::vector<Phase> parse_phase_list(const std::string& s, const std::string& what) {
  std::vector<Phase> out;
  for (const auto& item : split_list(s, what)) out.push_back(parse_phase(item, what));
  return out;
}

NumberFormat number_format(const std::string& name, const std::string& what) {
  std::string k = lower(name);
  if (k == "fp32" || k == "f32" || k == "float32") return {"fp32", 4};
  if (k == "fp16" || k == "f16" || k == "float16" || k == "half") return {"fp16", 2};
  if (k == "bf16" || k == "bfloat16") return {"bf16", 2};
  if (k == "fp8" || k == "f8" || k == "e4m3" || k == "e5m2") return {"fp8", 1};
  if (k == "int8" || k == "i8") return {"int8", 1};
  if (k == "int4" || k == "i4") return {"int4", 0.5};
  const DTypeInfo* info = nullptr;
  try {
    info = &dtype_info(dtype_from_name(k, what.c_str()));
  } catch (const Error&) {
    info = nullptr;
  }
  if (!info || info->block_size <= 0)
    fail(what, ": unknown number format '", name,
         "' (expected fp32, fp16, bf16, fp8, int8, int4, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k)");
  return {info->name, (double)info->type_size / info->block_size};
}

// ------------------------------------------------------------------ estimates

const OpEstimate& ModelEstimate::op(prof::OpClass c) const {
  for (const auto& o : ops)
    if (o.op == c) return o;
  fail("internal: estimate has no op class ", prof::op_name(c));
}

std::vector<OpEstimate> op_costs(const ModelShape& m, const Workload& w) {
  if (w.seq <= 0) fail("sequence length must be positive, got ", w.seq);
  if (w.batch <= 0) fail("batch must be positive, got ", w.batch);
  const double nl = (double)m.n_layer, d = (double)m.d_model, q = (double)m.q_dim(), kvd = (double)m.kv_dim();
  const double ff = (double)m.d_ff, V = (double)m.vocab, B = (double)w.batch, S = (double)w.seq;
  const double tps = (double)w.phase.tokens_per_seq(w.seq);
  const double T = B * tps;
  const double wb = w.weights.bytes_per_value, ab = w.act.bytes_per_value, kb = w.kv.bytes_per_value;

  // Attention scores per sequence and K/V rows read per sequence.
  double scores = 0, rows = 0;
  switch (w.phase.kind) {
    case PhaseKind::init: scores = S * (S + 1) / 2; rows = S; break;
    case PhaseKind::ar:
    case PhaseKind::draft: scores = S + 1; rows = S + 1; break;
    case PhaseKind::tree: {
      double N = (double)w.phase.n;
      scores = N * (S + N);
      rows = w.tree_kv == TreeKv::shared ? S + N : N * (S + N);
      break;
    }
  }

  std::vector<OpEstimate> ops;
  auto add = [&](prof::OpClass c, double flops, double wbytes, double abytes, double kbytes) {
    OpEstimate e;
    e.op = c;
    e.flops = flops, e.weight_bytes = wbytes, e.act_bytes = abytes, e.kv_bytes = kbytes;
    ops.push_back(e);
  };
  // qkv: x (T x d) in; Q (T x q) out; K, V (T x kvd each) written to the cache.
  add(prof::OpClass::qkv, nl * 2 * T * d * (q + 2 * kvd), nl * d * (q + 2 * kvd) * wb, nl * T * (d + q) * ab,
      nl * 2 * T * kvd * kb);
  // o: attention output (T x q) in, T x d out.
  add(prof::OpClass::o, nl * 2 * T * q * d, nl * q * d * wb, nl * T * (q + d) * ab, 0);
  // up/gate/down: x in, h written + read, y out.
  double mats = m.gated_ffn ? 3 : 2;
  add(prof::OpClass::up_gate_down, nl * 2 * T * d * ff * mats, nl * d * ff * mats * wb,
      nl * T * (2 * d + 2 * ff) * ab, 0);
  // qk/pv: Q in, O out; K and V rows read.
  double score_traffic = w.unfused_attention ? nl * B * 4 * (double)m.n_head * scores * ab : 0;
  add(prof::OpClass::qk_pv, nl * B * 4 * (double)m.n_head * (double)m.head_dim * scores, 0,
      nl * 2 * T * q * ab + score_traffic, nl * B * 2 * rows * kvd * kb);
  // lm_head: only the last prompt position needs logits in prefill.
  double t_out = w.phase.kind == PhaseKind::init ? B : T;
  add(prof::OpClass::lm_head, 2 * t_out * d * V, d * V * wb, t_out * d * ab + t_out * V * 4, 0);
  // other: norms, residual adds, final norm, embedding gather.
  double other_flops = nl * (2 * 4 * T * d + 2 * T * d) + 4 * T * d;
  double other_act = nl * (2 * 2 * T * d * ab + 2 * 3 * T * d * ab) + 2 * T * d * ab + T * d * ab;
  double other_w = (2 * nl + 1) * d * 4 + T * d * wb;
  add(prof::OpClass::other, other_flops, other_w, other_act, 0);
  return ops;
}

ModelEstimate estimate(const ModelShape& m, const Workload& w, double peak, double bw, const std::string& roof_name) {
  if (!(peak > 0) || !(bw > 0)) fail("estimate: peak and bandwidth must be positive");
  ModelEstimate e;
  e.model = m;
  e.workload = w;
  e.peak = peak;
  e.bandwidth = bw;
  e.compute_roof = roof_name;
  e.ops = op_costs(m, w);
  for (auto& o : e.ops) {
    // Identical layers: the sum over layers of max(F/peak, B/bw) equals max of the sums.
    double tc = o.flops / peak, tm = o.bytes() / bw;
    o.time_s = std::max(tc, tm);
    o.compute_bound = tc > tm;
    e.flops += o.flops;
    e.bytes += o.bytes();
    e.time_s += o.time_s;
  }
  double B = (double)w.batch;
  switch (w.phase.kind) {
    case PhaseKind::init: e.tokens_per_s = B * (double)w.seq / e.time_s; break;
    case PhaseKind::tree: e.tokens_per_s = B * w.tokens_per_pass / e.time_s; break;
    default: e.tokens_per_s = B / e.time_s; break;
  }
  return e;
}

ModelEstimate estimate(const ModelShape& m, const Workload& w, const HardwareSpec& hw, const ComputeRoof& roof) {
  return estimate(m, w, roof.ops_per_s, hw.memory().bytes_per_s, roof.name);
}

}  // namespace rooflm::roofline
