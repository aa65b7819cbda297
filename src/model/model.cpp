#include "model/model.h"

#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "core/error.h"
#include "core/fp16.h"
#include "io/gguf.h"
#include "io/safetensors.h"

namespace rooflm {

Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    m->load_hf_dir(path);
  } else if (std::filesystem::exists(path, ec)) {
    m->load_gguf(path);
  } else {
    fail(path, ": no such file or directory (expected a .gguf file or a Hugging Face model directory)");
  }
  m->load_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

std::unique_ptr<Model> Model::load_draft_head(const std::string& path, const Model& target) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(path, ": no such file (expected a draft head .gguf file)");
  m->load_gguf(path, &target);
  m->load_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

bool Model::is_draft_head(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  try {
    GGUFFile f(path);
    return f.get_string("general.architecture", "") == "rooflm-head";
  } catch (const Error&) {
    return false;  // not a GGUF file: the model loader reports what is wrong with it
  }
}

const std::string& Model::weights_hash() const {
  if (weights_hash_.empty()) {
    if (!gguf_) fail(path_, ": weights_hash is defined for GGUF files only");
    weights_hash_ = rooflm::weights_hash(*gguf_);
  }
  return weights_hash_;
}

size_t Model::weight_bytes() const {
  // A draft head's embedding is the target's, counted there; its own input projection is here.
  size_t n = (config_.draft_head ? weights_.fc.nbytes() : weights_.tok_embd.nbytes()) + weights_.pos_embd.nbytes();
  if (!config_.tied_embeddings) n += weights_.output.nbytes();
  for (const auto& l : weights_.layers)
    n += l.wqkv.nbytes() + l.wq.nbytes() + l.wk.nbytes() + l.wv.nbytes() + l.wo.nbytes() + l.w_gate.nbytes() +
         l.w_up.nbytes() + l.w_down.nbytes();
  return n;
}

const float* Model::owned_f32(std::vector<float> v) {
  owned_bytes_ += v.size() * sizeof(float);
  owned_vectors_.push_back(std::move(v));
  return owned_vectors_.back().data();
}

void Model::prepare_for_kernels(const MappedFile* const* files, size_t n_files) {
  ThreadPool pool((int)std::max(1u, std::thread::hardware_concurrency()));
  std::set<const void*> counted;
  // Packed in chunks of ~16 MB (embeddings, then groups of layers), releasing the mapped pages
  // each chunk replaced before the next, so peak RSS stays near one copy of the weights. Chunks
  // are large enough that rounding each arena to 2 MB huge pages wastes little.
  auto pack = [&](std::vector<WeightMatrix*> ms) {
    prepare_weights(ms.data(), ms.size(), &pool);
    for (WeightMatrix* w : ms) {
      if (!w->packed || !counted.insert(w->packed).second) continue;
      owned_bytes_ += w->packed_bytes;
      // Also the embedding table: its row lookups fault in just the rows a prompt uses.
      for (size_t i = 0; i < n_files; i++) files[i]->release(w->data, w->nbytes());
    }
  };
  pack({&weights_.tok_embd, &weights_.output, &weights_.fc});
  std::vector<WeightMatrix*> chunk;
  size_t chunk_bytes = 0;
  for (auto& L : weights_.layers) {
    for (WeightMatrix* w : {&L.wqkv, &L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      if (w->data) {
        chunk.push_back(w);
        chunk_bytes += w->nbytes();
      }
    if (chunk_bytes >= ((size_t)16 << 20)) {
      pack(chunk);
      chunk.clear();
      chunk_bytes = 0;
    }
  }
  if (!chunk.empty()) pack(chunk);
}

namespace {

// Widen a 1-D tensor of any float format to f32 (norm weights and biases are tiny).
std::vector<float> to_f32(DType type, const uint8_t* data, int64_t n) {
  std::vector<float> out((size_t)n);
  dequantize_row_ref(type, data, out.data(), n);
  return out;
}

// The tokenizer's errors name the bad field (in GGUF's terms); this adds the file they came from.
std::unique_ptr<Tokenizer> make_tokenizer(TokenizerSpec spec, const std::string& source) {
  try {
    return std::make_unique<Tokenizer>(std::move(spec));
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
}

// A head must match its target: architecture, sizes, and the exact weights it was trained on.
void check_head_target(const GGUFFile& f, const ModelConfig& head, const Model& target) {
  const ModelConfig& t = target.config();
  const std::string k = "rooflm-head.target.";
  const std::string want = f.get_string(k + "name", "?") + " (" + f.get_string(k + "architecture", "?") + ", " +
                           std::to_string(f.get_int(k + "embedding_length", 0)) + " wide, " +
                           std::to_string(f.get_int(k + "block_count", 0)) + " layers, vocabulary " +
                           std::to_string(f.get_int(k + "vocab_size", 0)) + ", weights " +
                           f.get_string(k + "weights_hash", "?") + ")";
  auto mismatch = [&](const std::string& what) {
    fail(f.path(), ": draft head made for ", want, " does not fit the target ", target.path(), " (", t.name, ", ", t.arch,
         ", ", t.n_embd, " wide, ", t.n_layer, " layers, vocabulary ", t.n_vocab, "): ", what, " differs");
  };
  if (f.get_string(k + "architecture", "") != t.arch) mismatch("architecture");
  if (f.get_int(k + "embedding_length", -1) != t.n_embd || head.n_embd != t.n_embd) mismatch("width");
  if (f.get_int(k + "block_count", -1) != t.n_layer) mismatch("layer count");
  if (f.get_int(k + "vocab_size", -1) != t.n_vocab || head.n_vocab != t.n_vocab) mismatch("vocabulary");
  if (f.get_string(k + "weights_hash", "") != target.weights_hash()) mismatch("weights hash (" + target.weights_hash() + ")");
}

}  // namespace

void Model::load_gguf(const std::string& path, const Model* head_target) {
  gguf_ = std::make_unique<GGUFFile>(path);
  const GGUFFile& f = *gguf_;
  file_bytes_ = f.file_size();
  config_ = config_from_gguf(f);
  const ModelConfig& c = config_;
  if (c.draft_head && !head_target)
    fail(path, ": this is a rooflm draft head for ", f.get_string("rooflm-head.target.name", "another model"),
         ", not a model; give it to -d/--draft with its target model");
  if (!c.draft_head && head_target) fail(path, ": not a rooflm draft head (general.architecture is '", c.arch, "')");
  if (head_target) check_head_target(f, c, *head_target);

  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols) {
    const GGUFTensor& t = f.tensor(name);
    if (t.dims.size() > 2 || t.cols() != cols || t.rows() != rows)
      fail(path, ": tensor '", name, "' has shape [", t.cols(), ", ", t.rows(), "], expected [", cols, ", ", rows, "]");
    if (!dtype_info(t.type).supported)
      fail(path, ": tensor '", name, "' uses ", dtype_name(t.type), ", which rooflm cannot compute with yet");
    return make_weight(t.type, rows, cols, t.data);
  };
  auto vec = [&](const std::string& name, int64_t n, bool required) -> const float* {
    const GGUFTensor* t = f.find_tensor(name);
    if (!t) {
      if (required) fail(path, ": required tensor '", name, "' is missing");
      return nullptr;
    }
    if (t->n_elements() != n) fail(path, ": tensor '", name, "' has ", t->n_elements(), " elements, expected ", n);
    // Always a copy (a few KB): a pointer into the mapping would keep the file's pages
    // resident, and where the page cache holds large folios one touch maps 2 MB.
    return owned_f32(to_f32(t->type, t->data, n));
  };

  Weights& w = weights_;
  if (c.draft_head) {
    w.fc = matrix("fc.weight", c.n_embd, 2 * c.n_embd);
    const GGUFTensor& dv = f.tensor("draft_vocab");
    if (dv.type != DType::I32 || dv.n_elements() != c.n_out)
      fail(path, ": tensor 'draft_vocab' must hold ", c.n_out, " int32 token ids (has ", dv.n_elements(), " ",
           dtype_name(dv.type), ")");
    w.draft_vocab.resize((size_t)c.n_out);
    std::memcpy(w.draft_vocab.data(), dv.data, (size_t)c.n_out * 4);
    for (int32_t id : w.draft_vocab)
      if (id < 0 || id >= c.n_vocab) fail(path, ": tensor 'draft_vocab' holds token id ", id, ", outside 0..", c.n_vocab - 1);
  } else {
    w.tok_embd = matrix("token_embd.weight", c.n_vocab, c.n_embd);
  }
  if (c.learned_pos) {
    const GGUFTensor& pt = f.tensor("position_embd.weight");
    w.pos_embd = matrix("position_embd.weight", pt.rows(), c.n_embd);
    if (pt.rows() < c.n_ctx_train) config_.n_ctx_train = pt.rows();
  }
  w.out_norm = vec("output_norm.weight", c.n_embd, true);
  w.out_norm_b = vec("output_norm.bias", c.n_embd, c.norm == NormKind::Layer);
  w.output = c.tied_embeddings ? w.tok_embd : matrix("output.weight", c.n_logits(), c.n_embd);

  w.layers.resize((size_t)c.n_layer);
  for (int64_t il = 0; il < c.n_layer; il++) {
    LayerWeights& L = w.layers[(size_t)il];
    const std::string p = "blk." + std::to_string(il) + ".";
    const bool layer_norm = c.norm == NormKind::Layer;
    L.attn_norm = vec(p + "attn_norm.weight", c.n_embd, true);
    L.attn_norm_b = vec(p + "attn_norm.bias", c.n_embd, layer_norm);
    if (f.find_tensor(p + "attn_qkv.weight")) {
      L.wqkv = matrix(p + "attn_qkv.weight", c.q_dim() + 2 * c.kv_dim(), c.n_embd);
      L.bqkv = vec(p + "attn_qkv.bias", c.q_dim() + 2 * c.kv_dim(), c.qkv_bias);
    } else {
      L.wq = matrix(p + "attn_q.weight", c.q_dim(), c.n_embd);
      L.wk = matrix(p + "attn_k.weight", c.kv_dim(), c.n_embd);
      L.wv = matrix(p + "attn_v.weight", c.kv_dim(), c.n_embd);
      L.bq = vec(p + "attn_q.bias", c.q_dim(), c.qkv_bias);
      L.bk = vec(p + "attn_k.bias", c.kv_dim(), c.qkv_bias);
      L.bv = vec(p + "attn_v.bias", c.kv_dim(), c.qkv_bias);
    }
    if (c.qk_norm) {
      L.q_norm = vec(p + "attn_q_norm.weight", c.head_dim, true);
      L.k_norm = vec(p + "attn_k_norm.weight", c.head_dim, true);
    }
    L.wo = matrix(p + "attn_output.weight", c.n_embd, c.q_dim());
    L.bo = vec(p + "attn_output.bias", c.n_embd, c.out_bias);
    if (c.post_norms) {
      L.post_attn_norm = vec(p + "post_attention_norm.weight", c.n_embd, true);
      L.post_ffn_norm = vec(p + "post_ffw_norm.weight", c.n_embd, true);
    }
    L.ffn_norm = vec(p + "ffn_norm.weight", c.n_embd, true);
    L.ffn_norm_b = vec(p + "ffn_norm.bias", c.n_embd, layer_norm);
    if (c.ffn != FFNKind::GELU) L.w_gate = matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd);
    L.w_up = matrix(p + "ffn_up.weight", c.n_ff, c.n_embd);
    L.w_down = matrix(p + "ffn_down.weight", c.n_embd, c.n_ff);
    L.b_up = vec(p + "ffn_up.bias", c.n_ff, c.out_bias);
    L.b_down = vec(p + "ffn_down.bias", c.n_embd, c.out_bias);
  }
  const MappedFile* mf = &f.mapped();
  if (head_target) {  // the embedding is the target's (already prepared)
    prepare_for_kernels(&mf, 1);
    weights_.tok_embd = head_target->weights().tok_embd;
    return;
  }
  tokenizer_ = make_tokenizer(tokenizer_spec_from_gguf(f), path);
  // Checked before repacking, the only costly step of a load.
  if (tokenizer_->n_vocab() > c.n_vocab)
    fail(path, ": tokenizer has ", tokenizer_->n_vocab(), " tokens but the embedding only ", c.n_vocab, " rows");
  prepare_for_kernels(&mf, 1);
}

void Model::load_hf_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  config_ = config_from_hf_json((fs::path(dir) / "config.json").string());
  const ModelConfig& c = config_;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
  if (files.empty()) fail(dir, ": no *.safetensors files in the directory");
  std::sort(files.begin(), files.end());
  std::map<std::string, const SafeTensor*> all;
  for (const auto& p : files) {
    safetensors_.push_back(std::make_unique<SafetensorsFile>(p));
    file_bytes_ += fs::file_size(p);
    for (const auto& [name, t] : safetensors_.back()->tensors()) all[name] = &t;
  }
  auto find = [&](const std::string& name) -> const SafeTensor* {
    // GPT-2 checkpoints exist with and without the "transformer." prefix.
    if (auto it = all.find(name); it != all.end()) return it->second;
    if (auto it = all.find("transformer." + name); it != all.end()) return it->second;
    return nullptr;
  };
  auto get = [&](const std::string& name) -> const SafeTensor& {
    const SafeTensor* t = find(name);
    if (!t) fail(dir, ": required tensor '", name, "' is missing from the safetensors files");
    return *t;
  };
  auto numel = [](const SafeTensor& t) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    return n;
  };
  // nn.Linear weights are [out][in]: rows = out, used in place.
  auto linear = [&](const std::string& name, int64_t rows, int64_t cols) {
    const SafeTensor& t = get(name);
    if (t.shape.size() != 2 || t.shape[0] != rows || t.shape[1] != cols)
      fail(dir, ": tensor '", name, "' has an unexpected shape (expected [", rows, ", ", cols, "])");
    return make_weight(t.type, rows, cols, t.data);
  };
  // GPT-2 Conv1D weights are [in][out]: transposed once into f32 rows (a copy, counted).
  auto conv1d = [&](const std::string& name, int64_t rows, int64_t cols) {
    const SafeTensor& t = get(name);
    if (t.shape.size() != 2 || t.shape[0] != cols || t.shape[1] != rows)
      fail(dir, ": tensor '", name, "' has an unexpected shape (expected [", cols, ", ", rows, "])");
    std::vector<float> src((size_t)(rows * cols)), dst((size_t)(rows * cols));
    dequantize_row_ref(t.type, t.data, src.data(), rows * cols);
    for (int64_t i = 0; i < cols; i++)
      for (int64_t o = 0; o < rows; o++) dst[(size_t)(o * cols + i)] = src[(size_t)(i * rows + o)];
    const float* p = owned_f32(std::move(dst));
    return make_weight(DType::F32, rows, cols, p);
  };
  auto vec = [&](const std::string& name, int64_t n) -> const float* {
    const SafeTensor& t = get(name);
    if (numel(t) != n) fail(dir, ": tensor '", name, "' has ", numel(t), " elements, expected ", n);
    return owned_f32(to_f32(t.type, t.data, n));
  };

  Weights& w = weights_;
  w.layers.resize((size_t)c.n_layer);
  if (c.arch == "gpt2") {
    w.tok_embd = linear("wte.weight", c.n_vocab, c.n_embd);
    w.pos_embd = linear("wpe.weight", c.n_ctx_train, c.n_embd);
    w.out_norm = vec("ln_f.weight", c.n_embd);
    w.out_norm_b = vec("ln_f.bias", c.n_embd);
    w.output = w.tok_embd;
    for (int64_t il = 0; il < c.n_layer; il++) {
      LayerWeights& L = w.layers[(size_t)il];
      const std::string p = "h." + std::to_string(il) + ".";
      L.attn_norm = vec(p + "ln_1.weight", c.n_embd);
      L.attn_norm_b = vec(p + "ln_1.bias", c.n_embd);
      L.wqkv = conv1d(p + "attn.c_attn.weight", 3 * c.n_embd, c.n_embd);
      L.bqkv = vec(p + "attn.c_attn.bias", 3 * c.n_embd);
      L.wo = conv1d(p + "attn.c_proj.weight", c.n_embd, c.n_embd);
      L.bo = vec(p + "attn.c_proj.bias", c.n_embd);
      L.ffn_norm = vec(p + "ln_2.weight", c.n_embd);
      L.ffn_norm_b = vec(p + "ln_2.bias", c.n_embd);
      L.w_up = conv1d(p + "mlp.c_fc.weight", c.n_ff, c.n_embd);
      L.b_up = vec(p + "mlp.c_fc.bias", c.n_ff);
      L.w_down = conv1d(p + "mlp.c_proj.weight", c.n_embd, c.n_ff);
      L.b_down = vec(p + "mlp.c_proj.bias", c.n_embd);
    }
  } else {  // llama / qwen2
    w.tok_embd = linear("model.embed_tokens.weight", c.n_vocab, c.n_embd);
    w.out_norm = vec("model.norm.weight", c.n_embd);
    w.output = (c.tied_embeddings || !find("lm_head.weight")) ? w.tok_embd : linear("lm_head.weight", c.n_vocab, c.n_embd);
    if (!find("lm_head.weight")) config_.tied_embeddings = true;
    for (int64_t il = 0; il < c.n_layer; il++) {
      LayerWeights& L = w.layers[(size_t)il];
      const std::string p = "model.layers." + std::to_string(il) + ".";
      L.attn_norm = vec(p + "input_layernorm.weight", c.n_embd);
      L.wq = linear(p + "self_attn.q_proj.weight", c.q_dim(), c.n_embd);
      L.wk = linear(p + "self_attn.k_proj.weight", c.kv_dim(), c.n_embd);
      L.wv = linear(p + "self_attn.v_proj.weight", c.kv_dim(), c.n_embd);
      if (c.qkv_bias) {
        L.bq = vec(p + "self_attn.q_proj.bias", c.q_dim());
        L.bk = vec(p + "self_attn.k_proj.bias", c.kv_dim());
        L.bv = vec(p + "self_attn.v_proj.bias", c.kv_dim());
      }
      L.wo = linear(p + "self_attn.o_proj.weight", c.n_embd, c.q_dim());
      L.ffn_norm = vec(p + "post_attention_layernorm.weight", c.n_embd);
      L.w_gate = linear(p + "mlp.gate_proj.weight", c.n_ff, c.n_embd);
      L.w_up = linear(p + "mlp.up_proj.weight", c.n_ff, c.n_embd);
      L.w_down = linear(p + "mlp.down_proj.weight", c.n_embd, c.n_ff);
    }
  }
  tokenizer_ = make_tokenizer(tokenizer_spec_from_hf_dir(dir), dir);
  if (tokenizer_->n_vocab() > c.n_vocab)
    fail(dir, ": tokenizer has ", tokenizer_->n_vocab(), " tokens but the embedding only ", c.n_vocab, " rows");
  std::vector<const MappedFile*> mfs;
  for (const auto& st : safetensors_) mfs.push_back(&st->mapped());
  prepare_for_kernels(mfs.data(), mfs.size());
}

}  // namespace rooflm
