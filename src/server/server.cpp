#include "server/server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/request.h"

namespace rooflm::server {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_signalled{false};
extern "C" void on_signal(int) { g_signalled.store(true); }

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_json(e), "application/json");
}

ApiError make_error(int status, const std::string& message, const std::string& type, const std::string& code = "") {
  ApiError e;
  e.status = status;
  e.message = message;
  e.type = type;
  e.code = code;
  return e;
}

struct Metrics {
  std::mutex mu;
  std::map<int, int64_t> by_status;
  std::atomic<int64_t> prompt_tokens{0}, generated_tokens{0}, target_steps{0}, draft_accepted{0};
  std::atomic<int64_t> prompt_us{0}, decode_us{0}, processing{0}, queued{0}, disconnects{0};
};

// Thrown from the token callback to end a generation early.
struct StopGeneration {};

// The slots: handles on one copy of the weights, each with its own thread pool.
class Slots {
 public:
  Slots(std::vector<api::Model> models, int queue) : free_(std::move(models)), queue_(queue) {}
  // A slot, or none when the queue is full (the caller answers 503) or the server is stopping.
  std::optional<api::Model> acquire(Metrics& m) {
    std::unique_lock<std::mutex> lk(mu_);
    if (free_.empty()) {
      if (waiting_ >= queue_ || stopping_) return std::nullopt;
      waiting_++;
      m.queued++;
      cv_.wait(lk, [&] { return !free_.empty() || stopping_; });
      waiting_--;
      m.queued--;
      if (free_.empty()) return std::nullopt;
    }
    api::Model s = free_.back();
    free_.pop_back();
    return s;
  }
  void release(api::Model s) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      free_.push_back(std::move(s));
    }
    cv_.notify_one();
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<api::Model> free_;
  int queue_, waiting_ = 0;
  bool stopping_ = false;
};

// A held slot, given back by give_back() or when the last copy goes (a streaming response
// outlives its handler).
struct Lease {
  Slots& slots;
  api::Model model;
  Metrics& metrics;
  bool held = true;
  Lease(Slots& s, api::Model m, Metrics& mt) : slots(s), model(std::move(m)), metrics(mt) { metrics.processing++; }
  // Once the generation is over: a client that reads the end of its stream and sends the next
  // request at once must find the slot free.
  void give_back() {
    if (!held) return;
    held = false;
    metrics.processing--;
    slots.release(model);
  }
  ~Lease() { give_back(); }
};

struct Outcome {
  std::string text;
  std::string finish_reason;  // "stop" or "length"
  int64_t n_prompt = 0, n_generated = 0;
  double prefill_ms = 0, decode_ms = 0;
  std::optional<int64_t> target_steps, draft_accepted;  // known when generate() ran to its end
  bool client_gone = false;
};

json timings_json(const Outcome& o) {
  json t = {{"prompt_n", o.n_prompt},
            {"prompt_ms", o.prefill_ms},
            {"prompt_per_second", o.prefill_ms > 0 ? o.n_prompt / (o.prefill_ms / 1000.0) : 0.0},
            {"predicted_n", o.n_generated},
            {"predicted_ms", o.decode_ms},
            {"predicted_per_second", o.decode_ms > 0 ? o.n_generated / (o.decode_ms / 1000.0) : 0.0},
            {"target_steps", nullptr},
            {"draft_tokens_accepted", nullptr}};
  if (o.target_steps) t["target_steps"] = *o.target_steps;
  if (o.draft_accepted) t["draft_tokens_accepted"] = *o.draft_accepted;
  return t;
}

json usage_json(const Outcome& o) {
  return {{"prompt_tokens", o.n_prompt}, {"completion_tokens", o.n_generated}, {"total_tokens", o.n_prompt + o.n_generated}};
}

class Server {
 public:
  Server(const ServerOptions& o, api::Model base, std::vector<api::Model> slots)
      : opts_(o), base_(std::move(base)), slots_(std::move(slots), o.queue) {
    model_id_ = std::filesystem::path(o.model_path).filename().string();
    if (model_id_.empty()) model_id_ = o.model_path;
    const int64_t train = base_.n_ctx_train();
    n_ctx_ = o.n_ctx > 0 ? std::min<int64_t>(o.n_ctx, train) : std::min<int64_t>(4096, train);
    created_ = (int64_t)std::time(nullptr);
  }

  int run() {
    httplib::Server svr;
    const size_t workers = (size_t)(opts_.parallel + opts_.queue + 4);
    svr.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    svr.set_payload_max_length(opts_.max_body);
    svr.set_read_timeout(30, 0);
    svr.set_write_timeout(30, 0);
    svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (opts_.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      const bool ok = auth.compare(0, prefix.size(), prefix) == 0 && secret_equals(auth.substr(std::min(auth.size(), prefix.size())), opts_.api_key);
      if (ok) return httplib::Server::HandlerResponse::Unhandled;
      send_error(res, make_error(401, "invalid or missing API key (Authorization: Bearer KEY)", "authentication_error",
                                 "invalid_api_key"));
      return httplib::Server::HandlerResponse::Handled;
    });
    svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413)
        send_error(res, make_error(413, "the request body is too large", "invalid_request_error", "request_too_large"));
      else if (res.status == 404)
        send_error(res, make_error(404, "no such endpoint: " + req.method + " " + req.path, "invalid_request_error", "not_found"));
      else
        send_error(res, make_error(res.status, "bad request", res.status >= 500 ? "server_error" : "invalid_request_error"));
    });
    svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      send_error(res, make_error(500, what, "server_error"));
    });
    svr.set_logger([this](const httplib::Request&, const httplib::Response& res) {
      std::lock_guard<std::mutex> lk(metrics_.mu);
      metrics_.by_status[res.status]++;
    });

    svr.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"status\": \"ok\"}", "application/json");
    });
    svr.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      json m = {{"id", model_id_}, {"object", "model"}, {"created", created_}, {"owned_by", "rooflm"},
                {"meta", {{"n_ctx", n_ctx_}, {"n_ctx_train", base_.n_ctx_train()}, {"n_vocab", base_.n_vocab()},
                          {"arch", base_.arch()}, {"name", base_.name()}}}};
      res.set_content(dump({{"object", "list"}, {"data", json::array({m})}}), "application/json");
    });
    svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) { res.set_content(metrics_text(), "text/plain; version=0.0.4"); });
    svr.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
      auto r = parse_tokenize(req.body);
      if (auto* e = std::get_if<ApiError>(&r)) return send_error(res, *e);
      const auto& t = std::get<TokenizeRequest>(r);
      res.set_content(dump({{"tokens", base_.tokenize(t.content, t.add_special, t.add_special)}}), "application/json");
    });
    svr.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
      auto r = parse_detokenize(req.body, base_.n_vocab());
      if (auto* e = std::get_if<ApiError>(&r)) return send_error(res, *e);
      res.set_content(dump({{"content", base_.detokenize(std::get<std::vector<int32_t>>(r))}}), "application/json");
    });
    svr.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { complete(req, res, true); });
    svr.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { complete(req, res, false); });

    if (!svr.bind_to_port(opts_.host, opts_.port))
      throw Error("--host/--port: cannot listen on " + opts_.host + ":" + std::to_string(opts_.port));
    g_signalled.store(false);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    std::thread watcher([&] {
      while (!g_signalled.load() && !stopped_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      stopping_.store(true);
      slots_.stop();
      svr.stop();
    });
    std::fprintf(stderr, "[rooflm] serving %s on http://%s:%d (%d slot%s, queue %d, context %lld)\n", model_id_.c_str(),
                 opts_.host.c_str(), opts_.port, opts_.parallel, opts_.parallel == 1 ? "" : "s", opts_.queue,
                 (long long)n_ctx_);
    std::fflush(stderr);
    const bool ok = svr.listen_after_bind();
    stopped_.store(true);
    watcher.join();
    std::signal(SIGTERM, SIG_DFL);
    std::signal(SIGINT, SIG_DFL);
    std::fprintf(stderr, "[rooflm] server stopped\n");
    return ok || g_signalled.load() ? 0 : 1;
  }

 private:
  std::string metrics_text() {
    std::string s;
    auto line = [&](const char* name, const char* type, const char* help, const std::string& value) {
      s += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value + "\n";
    };
    s += "# HELP rooflm_requests_total HTTP responses by status.\n# TYPE rooflm_requests_total counter\n";
    {
      std::lock_guard<std::mutex> lk(metrics_.mu);
      for (const auto& [status, n] : metrics_.by_status)
        s += "rooflm_requests_total{status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
    }
    line("rooflm_prompt_tokens_total", "counter", "Prompt tokens processed.", std::to_string(metrics_.prompt_tokens.load()));
    line("rooflm_generated_tokens_total", "counter", "Tokens generated.", std::to_string(metrics_.generated_tokens.load()));
    line("rooflm_target_steps_total", "counter", "Target forward passes after the prompt (completed generations).",
         std::to_string(metrics_.target_steps.load()));
    line("rooflm_draft_tokens_accepted_total", "counter", "Draft tokens the target accepted (completed generations).",
         std::to_string(metrics_.draft_accepted.load()));
    line("rooflm_prompt_seconds_total", "counter", "Time spent on prompts.", std::to_string(metrics_.prompt_us.load() / 1e6));
    line("rooflm_decode_seconds_total", "counter", "Time spent generating.", std::to_string(metrics_.decode_us.load() / 1e6));
    line("rooflm_requests_processing", "gauge", "Requests holding a slot.", std::to_string(metrics_.processing.load()));
    line("rooflm_requests_queued", "gauge", "Requests waiting for a slot.", std::to_string(metrics_.queued.load()));
    line("rooflm_client_disconnects_total", "counter", "Streams whose client left mid-generation.",
         std::to_string(metrics_.disconnects.load()));
    return s;
  }

  // Generates for `prompt` on a held slot; `emit` gets each piece of text that is final (no stop
  // string can begin in it) and returns false when the client is gone.
  Outcome generate(const api::Model& slot, const std::vector<int32_t>& prompt, const CompletionRequest& r,
                   const std::function<bool(const std::string&)>& emit) {
    Outcome o;
    o.n_prompt = (int64_t)prompt.size();
    api::GenerateOptions g;
    g.n_predict = n_ctx_ - o.n_prompt;
    if (r.max_tokens) g.n_predict = std::min<int64_t>(g.n_predict, *r.max_tokens);
    g.sampling = r.sampling;
    g.spec = opts_.spec;
    api::TextStream stream(slot);
    std::string out;   // all text so far
    size_t sent = 0;   // bytes of `out` passed to emit
    bool stopped = false;
    const auto t0 = Clock::now();
    Clock::time_point t_first = t0;
    auto flush_upto = [&](size_t end) {
      if (end > sent) {
        if (!emit(out.substr(sent, end - sent))) o.client_gone = true;
        sent = end;
      }
    };
    auto on_token = [&](int32_t id) {
      if (o.n_generated++ == 0) t_first = Clock::now();
      out += stream.push(id);
      const size_t tail = out.size() - sent;
      const size_t at = r.stop.empty() ? std::string::npos : find_stop(out.substr(sent), r.stop);
      if (at != std::string::npos) {
        out.resize(sent + at);
        flush_upto(out.size());
        stopped = true;
        throw StopGeneration{};
      }
      flush_upto(out.size() - (r.stop.empty() ? 0 : std::min(tail, stop_prefix_len(out, r.stop))));
      if (o.client_gone || stopping_.load()) throw StopGeneration{};
    };
    try {
      const api::GenerateResult res = api::generate(slot, prompt, g, on_token);
      o.prefill_ms = res.prefill_ms;
      o.decode_ms = res.decode_ms;
      o.target_steps = res.target_steps;
      o.draft_accepted = res.draft_accepted;
      o.finish_reason = res.stop_reason == "eos" ? "stop" : "length";
      o.n_generated = (int64_t)res.tokens.size();
    } catch (const StopGeneration&) {
      const auto t1 = Clock::now();
      o.prefill_ms = ms_between(t0, t_first);
      o.decode_ms = ms_between(t_first, t1);
      o.finish_reason = stopped ? "stop" : "length";
    }
    if (!stopped && !o.client_gone) {
      out += stream.flush();
      const size_t at = r.stop.empty() ? std::string::npos : find_stop(out.substr(sent), r.stop);
      if (at != std::string::npos) {
        out.resize(sent + at);
        o.finish_reason = "stop";
      }
      flush_upto(out.size());
    }
    o.text = out;
    metrics_.prompt_tokens += o.n_prompt;
    metrics_.generated_tokens += o.n_generated;
    if (o.target_steps) metrics_.target_steps += *o.target_steps;
    if (o.draft_accepted) metrics_.draft_accepted += *o.draft_accepted;
    metrics_.prompt_us += (int64_t)(o.prefill_ms * 1000);
    metrics_.decode_us += (int64_t)(o.decode_ms * 1000);
    if (o.client_gone) metrics_.disconnects++;
    return o;
  }

  void complete(const httplib::Request& req, httplib::Response& res, bool chat) {
    auto parsed = parse_completion(req.body, chat);
    if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
    auto r = std::make_shared<CompletionRequest>(std::move(std::get<CompletionRequest>(parsed)));
    if (!r->model.empty() && r->model != model_id_ && r->model != opts_.model_path && r->model != base_.name()) {
      ApiError e = make_error(404, "the model '" + r->model + "' does not exist; this server has '" + model_id_ + "'",
                              "invalid_request_error", "model_not_found");
      e.param = "model";
      return send_error(res, e);
    }
    std::vector<int32_t> prompt;
    try {
      prompt = chat ? base_.chat_prompt(r->messages) : base_.tokenize(r->prompt, true, false);
    } catch (const Error& e) {
      ApiError err = make_error(400, e.what(), "invalid_request_error");
      err.param = chat ? "messages" : "prompt";
      return send_error(res, err);
    }
    if (prompt.empty() || (int64_t)prompt.size() >= n_ctx_) {
      ApiError e = make_error(400,
                              "the prompt is " + std::to_string(prompt.size()) + " tokens; the context holds " +
                                  std::to_string(n_ctx_) + " (prompt and completion together)",
                              "invalid_request_error", "context_length_exceeded");
      e.param = chat ? "messages" : "prompt";
      return send_error(res, e);
    }
    std::optional<api::Model> slot = slots_.acquire(metrics_);
    if (!slot) {
      res.set_header("Retry-After", "1");
      return send_error(res, make_error(503, stopping_ ? "the server is shutting down" : "the server is busy; retry later",
                                        "server_error", "server_busy"));
    }
    auto lease = std::make_shared<Lease>(slots_, std::move(*slot), metrics_);
    const std::string id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(next_id_++);
    const json base = {{"id", id}, {"object", chat ? "chat.completion" : "text_completion"}, {"created", (int64_t)std::time(nullptr)},
                       {"model", model_id_}};

    if (!r->stream) {
      const Outcome o = generate(lease->model, prompt, *r, [](const std::string&) { return true; });
      json choice = {{"index", 0}, {"finish_reason", o.finish_reason}};
      if (chat)
        choice["message"] = {{"role", "assistant"}, {"content", o.text}};
      else
        choice.update({{"text", o.text}, {"logprobs", nullptr}});
      json body = base;
      body["choices"] = json::array({choice});
      body["usage"] = usage_json(o);
      body["timings"] = timings_json(o);
      res.set_content(dump(body), "application/json");
      return;
    }

    json chunk = base;
    chunk["object"] = chat ? "chat.completion.chunk" : "text_completion";
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream", [this, lease, r, prompt, chunk, chat](size_t, httplib::DataSink& sink) {
          auto send = [&](const json& j) {
            const std::string s = "data: " + dump(j) + "\n\n";
            return sink.is_writable() && sink.write(s.data(), s.size());
          };
          auto piece = [&](const json& delta_or_text, const json& finish) {
            json c = chunk;
            json choice = {{"index", 0}, {"finish_reason", finish}};
            if (chat)
              choice["delta"] = delta_or_text;
            else
              choice.update({{"text", delta_or_text}, {"logprobs", nullptr}});
            c["choices"] = json::array({choice});
            return c;
          };
          bool ok = !chat || send(piece({{"role", "assistant"}, {"content", ""}}, nullptr));
          Outcome o;
          try {
            o = generate(lease->model, prompt, *r, [&](const std::string& text) {
              return ok = ok && send(piece(chat ? json{{"content", text}} : json(text), nullptr));
            });
          } catch (const std::exception& e) {
            lease->give_back();
            if (ok) send({{"error", {{"message", e.what()}, {"type", "server_error"}, {"param", nullptr}, {"code", nullptr}}}});
            sink.done();
            return true;
          }
          lease->give_back();
          if (!ok || o.client_gone) return false;  // the client left: nothing more to write
          json last = piece(chat ? json::object() : json(""), o.finish_reason);
          last["timings"] = timings_json(o);
          if (!r->include_usage) last["usage"] = usage_json(o);  // usage on the last chunk as llama-server
          send(last);
          if (r->include_usage) {
            json u = chunk;
            u["choices"] = json::array();
            u["usage"] = usage_json(o);
            u["timings"] = timings_json(o);
            send(u);
          }
          const std::string done = "data: [DONE]\n\n";
          sink.write(done.data(), done.size());
          sink.done();
          return true;
        });
  }

  ServerOptions opts_;
  api::Model base_;
  Slots slots_;
  Metrics metrics_;
  std::string model_id_;
  int64_t n_ctx_ = 0, created_ = 0;
  std::atomic<int64_t> next_id_{1};
  std::atomic<bool> stopping_{false}, stopped_{false};
};

}  // namespace

int serve(const ServerOptions& o) {
  if (o.parallel < 1 || o.parallel > 64) throw Error("--parallel: expected 1..64 slots, got " + std::to_string(o.parallel));
  if (o.queue < 0 || o.queue > 4096) throw Error("--queue: expected 0..4096 waiting requests, got " + std::to_string(o.queue));
  if (o.port < 0 || o.port > 65535) throw Error("--port: expected 0..65535, got " + std::to_string(o.port));
  if (o.n_ctx < 0) throw Error("-c/--ctx: expected a number of tokens >= 1, got " + std::to_string(o.n_ctx));
  o.spec.validate();
  const int total = o.threads > 0 ? o.threads : (int)std::max(1u, std::thread::hardware_concurrency());
  api::ModelOptions mo;
  mo.n_threads = std::max(1, total / o.parallel);
  api::Model base = api::Model::load(o.model_path, mo);
  std::vector<api::Model> slots{base};
  for (int i = 1; i < o.parallel; i++) slots.push_back(base.with_threads(mo.n_threads));
  // A draft model or head that does not fit fails here, at start, not on the first request.
  if (o.spec.mode != api::SpecMode::None) {
    api::GenerateOptions g;
    g.n_predict = 1;
    g.sampling.temperature = 0;
    g.spec = o.spec;
    api::generate(base, base.tokenize("Hello", true, false), g);
  }
  Server s(o, base, std::move(slots));
  return s.run();
}

}  // namespace rooflm::server
