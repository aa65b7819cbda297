// rooflm serve: the OpenAI-compatible HTTP server (src/server/, docs/SERVER.md).
#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "core/error.h"
#include "decode/speculative/spec_config.h"
#include "server/server.h"

namespace rooflm::cli {

void register_serve(CLI::App& app) {
  auto o = std::make_shared<server::ServerOptions>();
  auto mode = std::make_shared<std::string>("staged");
  o->spec.mode = api::SpecMode::Staged;
  CLI::App* s = app.add_subcommand("serve", "Serve the model over an OpenAI-compatible HTTP API");
  s->add_option("-m,--model", o->model_path, "GGUF file or Hugging Face model directory")->required();
  s->add_option("-d,--draft", o->spec.draft_path, "Draft model (same tokenizer) or draft head for speculative decoding");
  s->add_flag("--head", o->spec.shipped_head, "Draft with the model's shipped draft head (heads/)");
  s->add_option("--spec", *mode, "Speculative decoding: none, chain, tree or staged (default staged)");
  s->add_option("--host", o->host, "Address to listen on (default 127.0.0.1)");
  s->add_option("--port", o->port, "Port (default 8080)");
  s->add_option("--parallel", o->parallel, "Requests generating at once, sharing the weights (default 1)");
  s->add_option("--queue", o->queue, "Requests waiting for a slot; more get 503 (default 16)");
  s->add_option("-c,--ctx", o->n_ctx, "Context per request: prompt + completion (default: 4096, capped by the model)");
  s->add_option("--api-key", o->api_key, "Require Authorization: Bearer KEY");
  s->add_option("-t,--threads", o->threads, "Threads for all slots together (default: all cores)");
  s->add_option("--max-body", o->max_body, "Largest request body in bytes (default 8 MiB)");
  s->callback([o, mode] {
    o->spec.mode = spec::spec_mode_from_name(*mode);
    if (o->threads < 0) fail("-t: expected a number of threads >= 1, got ", o->threads);
    const int rc = server::serve(*o);
    if (rc != 0) std::exit(rc);
  });
}

}  // namespace rooflm::cli
