// rooflm serve: an OpenAI-compatible HTTP server (cpp-httplib) over the public API. K slots
// (Model::with_threads handles on one copy of the weights) generate at once; further requests
// wait in a bounded queue, past which they get 503 with Retry-After. docs/SERVER.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "rooflm/rooflm.h"

namespace rooflm::server {

struct ServerOptions {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8080;
  int parallel = 1;                // slots generating at once
  int queue = 16;                  // requests waiting for a slot, at most
  int64_t n_ctx = 0;               // per request: prompt + completion; 0 = min(4096, the model's)
  std::string api_key;             // "" = none
  int threads = 0;                 // all slots together; 0 = one per hardware thread
  size_t max_body = 8u << 20;      // bytes
  api::SpecOptions spec;           // mode Staged by default (cmd_serve.cpp)
};

// Loads the model, serves until SIGTERM or SIGINT, then stops accepting, lets in-flight requests
// end (generations stop at their next token) and returns 0. Throws Error on a bad option, a model
// that does not load, or an address it cannot bind.
int serve(const ServerOptions& opts);

}  // namespace rooflm::server
