// `rooflm features`: the target's features and top-k next-token probabilities for a corpus,
// as .npy files a draft-head training script reads (docs/DRAFT_HEADS.md). Texts are run in
// windows of --seq tokens (batched forwards); prompts are answered by greedy generation first
// (self-distillation), so the head learns from the target's own outputs.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/util.h"
#include "core/error.h"
#include "kernels/ops.h"
#include "roofline/probe.h"
#include "core/threadpool.h"
#include "decode/run.h"
#include "decode/speculative/draft_session.h"
#include "io/npy.h"
#include "model/model.h"
#include "model/session.h"

namespace rooflm::cli {

namespace {

namespace fs = std::filesystem;

// SIGINT/SIGTERM end the run early but cleanly: what was computed so far is written out.
std::atomic<bool> g_stop{false};
extern "C" void request_stop(int) { g_stop.store(true); }

struct FeaturesArgs {
  std::string model, out, text, prompts;
  int generate = 256;
  bool chat = false;
  int seq = 512;
  int top_k = 8;
  int threads = 0;
  int64_t max_tokens = 0;
  bool prompt_logits = true;
  bool plan = false;
};

struct Line {
  std::string text;
  int chat = -1;  // the line's own "chat": true/false, or -1 (the --chat flag decides)
};

// One JSONL file's string field (and optional boolean "chat") per line; errors name the
// file, line and field.
std::vector<Line> read_jsonl_field(const std::string& path, const char* field, const char* flag) {
  std::ifstream in(path);
  if (!in) fail(flag, " ", path, ": cannot open");
  std::vector<Line> out;
  std::string line;
  for (int ln = 1; std::getline(in, line); ln++) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      fail(flag, " ", path, ": line ", ln, ": invalid JSON");
    }
    if (!j.is_object() || !j.contains(field) || !j[field].is_string())
      fail(flag, " ", path, ": line ", ln, ": expected an object with a string field '", field, "'");
    Line l{j[field].get<std::string>()};
    if (j.contains("chat")) {
      if (!j["chat"].is_boolean()) fail(flag, " ", path, ": line ", ln, ": field 'chat' must be true or false");
      l.chat = j["chat"].get<bool>();
    }
    out.push_back(std::move(l));
  }
  if (out.empty()) fail(flag, " ", path, ": no lines");
  return out;
}

class FeatureSink {
 public:
  FeatureSink(const fs::path& dir, int64_t d, int k)
      : d_(d),
        k_(k),
        tokens_((dir / "tokens.npy").string(), "<i4", {}),
        features_((dir / "features.npy").string(), "<f2", {d}),
        ids_((dir / "topk_ids.npy").string(), "<i4", {k}),
        probs_((dir / "topk_probs.npy").string(), "<f2", {k}),
        h_((size_t)d),
        id_row_((size_t)k),
        p_row_((size_t)k) {
    starts_.push_back(0);
  }

  // One position: its token, feature (d floats) and the logits after it.
  void add(int32_t token, const float* feature, const float* logits, int64_t n_vocab) {
    tokens_.append(&token, 1);
    to_fp16(h_.data(), feature, d_);
    features_.append(h_.data(), 1);
    top_k(logits, n_vocab);
    ids_.append(id_row_.data(), 1);
    probs_.append(p_row_.data(), 1);
  }
  // A position without logits (--no-prompt-logits): the label is the token that followed.
  void add_label(int32_t token, const float* feature, int32_t next) {
    tokens_.append(&token, 1);
    to_fp16(h_.data(), feature, d_);
    features_.append(h_.data(), 1);
    const float one = 1.0f, zero = 0.0f;
    for (int j = 0; j < k_; j++) {
      id_row_[(size_t)j] = next;
      to_fp16(&p_row_[(size_t)j], j == 0 ? &one : &zero, 1);
    }
    ids_.append(id_row_.data(), 1);
    probs_.append(p_row_.data(), 1);
  }
  void end_sequence() {
    if (tokens_.rows() > starts_.back()) starts_.push_back(tokens_.rows());
  }
  int64_t rows() const { return tokens_.rows(); }
  int32_t last_top1() const { return id_row_[0]; }  // the argmax after the last position added
  int64_t sequences() const { return (int64_t)starts_.size() - 1; }
  void close(const fs::path& dir) {
    tokens_.close();
    features_.close();
    ids_.close();
    probs_.close();
    NpyWriter s((dir / "starts.npy").string(), "<i8", {});
    s.append(starts_.data(), (int64_t)starts_.size());
    s.close();
  }

 private:
  void top_k(const float* logits, int64_t n) {
    spec::top_softmax(logits, n, k_, best_);
    for (int j = 0; j < k_; j++) {
      id_row_[(size_t)j] = best_[(size_t)j].token;
      to_fp16(&p_row_[(size_t)j], &best_[(size_t)j].prob, 1);
    }
  }

  int64_t d_;
  int k_;
  NpyWriter tokens_, features_, ids_, probs_;
  std::vector<int64_t> starts_;
  std::vector<uint16_t> h_;
  std::vector<int32_t> id_row_;
  std::vector<uint16_t> p_row_;
  std::vector<spec::Candidate> best_;
};

void run(const FeaturesArgs& a) {
  check_threads(a.threads, true);
  if (a.out.empty()) fail("--out: required");
  if (a.text.empty() && a.prompts.empty()) fail("--text or --prompts: give at least one input file");
  if (a.seq < 2 || a.seq > 8192) fail("--seq: expected 2..8192 tokens, got ", a.seq);
  if (a.top_k < 1 || a.top_k > 64) fail("--top-k: expected 1..64, got ", a.top_k);
  if (a.generate < 0 || a.generate > 8192) fail("--generate: expected 0..8192 tokens, got ", a.generate);
  if (a.max_tokens < 0) fail("--max-tokens: expected a non-negative count, got ", a.max_tokens);
  const fs::path out(a.out);
  std::error_code ec;
  if (fs::exists(out, ec)) fail("--out ", a.out, ": already exists (features are never overwritten)");
  if (!out.parent_path().empty() && !fs::is_directory(out.parent_path(), ec))
    fail("--out ", a.out, ": the folder ", out.parent_path().string(), " does not exist");
  std::vector<Line> texts, prompts;
  if (!a.text.empty()) texts = read_jsonl_field(a.text, "text", "--text");
  if (!a.prompts.empty()) prompts = read_jsonl_field(a.prompts, "prompt", "--prompts");

  auto model = Model::load(a.model);
  const ModelConfig& c = model->config();
  const Tokenizer& tok = model->tokenizer();
  if (a.top_k > c.n_vocab) fail("--top-k ", a.top_k, ": the model has only ", c.n_vocab, " tokens");
  if (a.chat && !tok.has_chat_template()) fail("--chat: ", a.model, " has no chat template");
  ThreadPool pool(a.threads > 0 ? a.threads : roofline::available_threads());
  const int64_t V = c.n_vocab;
  // Rows per forward: all rows need logits, so the logits buffer bounds the batch.
  const int chunk = (int)std::clamp<int64_t>((64ll << 20) / V, 16, 256);
  SessionOptions so;
  so.n_ctx = std::min<int64_t>(c.n_ctx_train, std::max<int64_t>(a.seq, 4096));
  so.max_batch = chunk;
  so.max_logits = chunk;
  so.keep_features = true;
  Session s(*model, so, pool);

  const fs::path tmp = out.string() + ".partial";
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp);
  FeatureSink sink(tmp, c.n_embd, a.top_k);
  const auto t0 = std::chrono::steady_clock::now();
  auto full = [&] { return g_stop.load() || (a.max_tokens > 0 && sink.rows() >= a.max_tokens); };
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  // Runs a chain of tokens in chunks, recording every position. Without all_logits only the
  // chain's last position gets the target's probabilities; the others are labelled with the
  // token that followed (what a large vocabulary's output matrix would cost every row).
  auto run_chain = [&](const int32_t* ids, int64_t n, bool all_logits) {
    std::vector<int32_t> parents((size_t)chunk), path;
    for (int64_t at = 0; at < n; at += chunk) {
      const int m = (int)std::min<int64_t>(chunk, n - at);
      for (int i = 0; i < m; i++) parents[(size_t)i] = i - 1;
      const float* logits = s.forward(ids + at, parents.data(), m, all_logits);
      for (int i = 0; i < m; i++) {
        const float* f = s.features() + (size_t)i * c.n_embd;
        if (all_logits) sink.add(ids[at + i], f, logits + (size_t)i * V, V);
        else if (at + i + 1 < n) sink.add_label(ids[at + i], f, ids[at + i + 1]);
        else sink.add(ids[at + i], f, logits, V);
      }
      path.resize((size_t)m);
      std::iota(path.begin(), path.end(), 0);
      s.commit(path);
    }
  };
  auto progress = [&](const char* what, size_t i, size_t n) {
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "features: " << what << " " << i << "/" << n << ", " << sink.rows() << " positions, "
              << (int64_t)(sink.rows() / std::max(sec, 1e-9)) << " per s\n";
  };

  if (a.plan) {  // how the input is windowed: tokens and window starts only, no forward pass
    std::vector<int32_t> all;
    std::vector<int64_t> starts{0};
    for (const Line& t : texts) {
      const std::vector<int32_t> ids = tok.encode(t.text, true, false);
      for (size_t at = 0; at + 1 < ids.size(); at += (size_t)a.seq) {
        const size_t n = std::min<size_t>((size_t)a.seq, ids.size() - at);
        all.insert(all.end(), ids.begin() + (ptrdiff_t)at, ids.begin() + (ptrdiff_t)(at + n));
        starts.push_back((int64_t)all.size());
      }
    }
    for (const Line& p : prompts) {  // each prompt as one window (its answer is not generated)
      const std::vector<int32_t> ids = encode_prompt(tok, p.text, p.chat >= 0 ? p.chat == 1 : a.chat);
      all.insert(all.end(), ids.begin(), ids.end());
      starts.push_back((int64_t)all.size());
    }
    fs::create_directories(out);
    NpyWriter tw((out / "tokens.npy").string(), "<i4", {}), sw((out / "starts.npy").string(), "<i8", {});
    tw.append(all.data(), (int64_t)all.size());
    sw.append(starts.data(), (int64_t)starts.size());
    tw.close();
    sw.close();
    fs::remove_all(tmp, ec);
    std::cout << "features --plan: " << all.size() << " positions in " << starts.size() - 1 << " windows -> " << a.out << "\n";
    return;
  }
  for (size_t i = 0; i < texts.size() && !full(); i++) {
    const std::vector<int32_t> ids = tok.encode(texts[i].text, true, false);
    for (size_t at = 0; at + 1 < ids.size() && !full(); at += (size_t)a.seq) {
      s.truncate(0);
      run_chain(ids.data() + at, (int64_t)std::min<size_t>((size_t)a.seq, ids.size() - at), a.prompt_logits);
      sink.end_sequence();
    }
    if ((i + 1) % 50 == 0) progress("text", i + 1, texts.size());
  }
  for (size_t i = 0; i < prompts.size() && !full(); i++) {
    const bool chat = prompts[i].chat >= 0 ? prompts[i].chat == 1 : a.chat;
    if (chat && !tok.has_chat_template()) fail("--prompts: line ", i + 1, " asks for the chat template, which ", a.model, " lacks");
    std::vector<int32_t> ids = encode_prompt(tok, prompts[i].text, chat);
    if ((int64_t)ids.size() + a.generate > s.n_ctx()) continue;  // too long for the window: skipped
    s.truncate(0);
    run_chain(ids.data(), (int64_t)ids.size(), a.prompt_logits);
    // Greedy generation: each new token's own forward records its position.
    int32_t next = sink.last_top1();
    for (int g = 0; g < a.generate && !tok.is_eog(next) && s.n_past() < s.n_ctx(); g++) {
      run_chain(&next, 1, true);
      next = sink.last_top1();
    }
    sink.end_sequence();
    if ((i + 1) % 20 == 0) progress("prompt", i + 1, prompts.size());
  }
  sink.end_sequence();
  sink.close(tmp);
  nlohmann::json meta = {{"model", a.model},           {"architecture", c.arch},      {"n_embd", c.n_embd},
                         {"n_vocab", c.n_vocab},       {"top_k", a.top_k},            {"positions", sink.rows()},
                         {"sequences", sink.sequences()}, {"weights_hash", model->weights_hash()},
                         {"seq", a.seq},               {"generate", a.generate},      {"chat", a.chat},
                         {"prompt_logits", a.prompt_logits}, {"stopped_early", g_stop.load()}};
  std::ofstream((tmp / "meta.json").string()) << meta.dump(2) << "\n";
  fs::rename(tmp, out);
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "features: " << sink.rows() << " positions in " << sink.sequences() << " sequences, " << sec << " s -> "
            << a.out << "\n";
}

}  // namespace

void register_features(CLI::App& app) {
  auto args = std::make_shared<FeaturesArgs>();
  CLI::App* sub = app.add_subcommand(
      "features", "Write a model's features and top-k next-token probabilities for a corpus (.npy), to train a draft head");
  sub->add_option("-m,--model", args->model, "Model (.gguf or Hugging Face directory)")->required();
  sub->add_option("--out", args->out, "Output folder (created; must not exist)")->required();
  sub->add_option("--text", args->text, "JSONL of {\"text\": ...}: documents run in windows of --seq tokens");
  sub->add_option("--prompts", args->prompts,
                  "JSONL of {\"prompt\": ..., optional \"chat\": bool}: prompts answered by greedy generation first");
  sub->add_option("--generate", args->generate, "Tokens generated per prompt (default 256; stops at end of turn)");
  sub->add_flag("--chat", args->chat, "Wrap prompts in the model's chat template (unless a line says \"chat\": false)");
  sub->add_option("--seq", args->seq, "Window length for --text documents (default 512)");
  sub->add_option("--top-k", args->top_k, "Next-token probabilities kept per position (default 8)");
  sub->add_flag("!--no-prompt-logits", args->prompt_logits,
                "Positions of given text (prompts, --text windows) are labelled with the next token instead of the model's probabilities (faster with a large vocabulary)");
  sub->add_flag("--plan", args->plan, "Only tokenize the input into windows (tokens.npy, starts.npy; a prompt is one window, unanswered): no forward pass");
  sub->add_option("--max-tokens", args->max_tokens, "Stop after this many positions (default: all)");
  sub->add_option("-t,--threads", args->threads, "Threads (default: all cores)");
  sub->callback([args] { run(*args); });
}

}  // namespace rooflm::cli
