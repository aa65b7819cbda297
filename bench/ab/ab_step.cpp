// Paired A/B of target forwards in one process: two kernel-tuning settings (see
// src/kernels/tuning.h) alternate step by step, so a shared machine's slow drifts hit both
// alike, and each A step is compared with the B step beside it.
//
//   build/rooflm_ab --a pf_dist=2 --b pf_dist=4            # decode steps
//   build/rooflm_ab --a pf_dist=2 --b pf_dist=4 --nodes 4  # 4-node verify forwards
//
// --nodes 1 times decode steps (each commits its token; the context grows from the prompt
// to --ctx-max, then is cut back). --nodes N > 1 times forwards over a chain of N nodes of
// which only the root is committed (a speculative step whose candidates were all rejected).
// Pairs run A,B then B,A in turn. Reported: median ms of each side, and the median of the
// per-pair ratios B/A with its quartiles and the share of pairs where B was faster.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/tuning.h"
#include "model/model.h"
#include "model/session.h"

namespace {

using namespace rooflm;

struct Args {
  std::string model = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  std::string a, b;
  int threads = 2, pairs = 200, warmup = 20, nodes = 1, prompt_len = 32;
  int64_t ctx_max = 1000;
};

void usage() {
  std::printf(
      "usage: rooflm_ab --a NAME=V[,NAME=V] --b NAME=V[,NAME=V] [-m MODEL] [-t THREADS] [--pairs P]\n"
      "                 [--nodes N] [--ctx-max C] [--prompt-len L] [--warmup W]\n"
      "settings:");
  for (const std::string& n : kernel_tuning_names()) std::printf(" %s", n.c_str());
  std::printf("\n");
}

int to_int(const std::string& flag, const std::string& v, int lo) {
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || x < lo || x > 1000000) fail(flag, ": expected an integer >= ", lo, ", got '", v, "'");
  return (int)x;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; i++) {
    const std::string f = argv[i];
    if (f == "-h" || f == "--help") {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc) fail(f, ": missing value (or unknown flag)");
    const std::string v = argv[++i];
    if (f == "-m" || f == "--model") a.model = v;
    else if (f == "--a") a.a = v;
    else if (f == "--b") a.b = v;
    else if (f == "-t" || f == "--threads") a.threads = to_int(f, v, 1);
    else if (f == "--pairs") a.pairs = to_int(f, v, 1);
    else if (f == "--warmup") a.warmup = to_int(f, v, 0);
    else if (f == "--nodes") a.nodes = to_int(f, v, 1);
    else if (f == "--prompt-len") a.prompt_len = to_int(f, v, 1);
    else if (f == "--ctx-max") a.ctx_max = to_int(f, v, 2);
    else fail("unknown flag '", f, "' (see --help)");
  }
  if (a.a.empty() && a.b.empty()) fail("--a and --b: give at least one setting that differs (see --help)");
  return a;
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[(size_t)(q * (double)(v.size() - 1) + 0.5)];
}

int run(const Args& args) {
  KernelTuning ta = kernel_tuning(), tb = kernel_tuning();
  apply_kernel_tuning(ta, args.a);
  apply_kernel_tuning(tb, args.b);
  const std::unique_ptr<Model> model = Model::load(args.model);
  ThreadPool pool(args.threads);
  SessionOptions so;
  so.n_ctx = args.ctx_max + args.nodes + 1;
  so.max_logits = args.nodes;
  Session s(*model, so, pool);
  if (args.prompt_len + args.nodes + 1 > s.n_ctx())
    fail("--prompt-len ", args.prompt_len, " + --nodes ", args.nodes, " does not fit the context (", s.n_ctx(), ")");
  const int64_t n_vocab = s.n_vocab();
  std::vector<int32_t> prompt((size_t)args.prompt_len);
  for (int i = 0; i < args.prompt_len; i++) prompt[(size_t)i] = (int32_t)((100 + 37 * i) % n_vocab);
  s.prefill(prompt);

  std::vector<int32_t> tokens((size_t)args.nodes), parents((size_t)args.nodes);
  const std::vector<int32_t> root_only{0};
  int32_t next = 42;
  auto step = [&]() {
    if (s.n_past() + args.nodes + 1 > args.ctx_max) s.truncate(args.prompt_len);
    for (int i = 0; i < args.nodes; i++) {
      tokens[(size_t)i] = next;
      parents[(size_t)i] = i - 1;
      next = (int32_t)((next * 31 + 7) % n_vocab);
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (args.nodes == 1) {
      s.decode(tokens[0]);
    } else {
      s.forward(tokens.data(), parents.data(), args.nodes, true);
      s.commit(root_only);
    }
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  for (int i = 0; i < args.warmup; i++) {
    kernel_tuning() = i % 2 ? tb : ta;
    step();
  }
  std::vector<double> ms_a, ms_b, ratio;
  for (int p = 0; p < args.pairs; p++) {
    double x = 0, y = 0;
    if (p % 2 == 0) {
      kernel_tuning() = ta;
      x = step();
      kernel_tuning() = tb;
      y = step();
    } else {
      kernel_tuning() = tb;
      y = step();
      kernel_tuning() = ta;
      x = step();
    }
    ms_a.push_back(x);
    ms_b.push_back(y);
    ratio.push_back(y / x);
  }
  int b_faster = 0;
  for (double r : ratio) b_faster += r < 1.0;
  std::printf("%s | %d threads | %d pair(s) of %s | context %d..%lld\n", args.model.c_str(), args.threads, args.pairs,
              args.nodes == 1 ? "decode steps" : (std::to_string(args.nodes) + "-node forwards").c_str(),
              args.prompt_len, (long long)args.ctx_max);
  std::printf("A (%s): median %.3f ms\n", args.a.empty() ? "defaults" : args.a.c_str(), quantile(ms_a, 0.5));
  std::printf("B (%s): median %.3f ms\n", args.b.empty() ? "defaults" : args.b.c_str(), quantile(ms_b, 0.5));
  std::printf("B/A per pair: median %.3f [quartiles %.3f - %.3f]; B faster in %d of %d pairs\n", quantile(ratio, 0.5),
              quantile(ratio, 0.25), quantile(ratio, 0.75), b_faster, args.pairs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const rooflm::Error& e) {
    std::fprintf(stderr, "rooflm_ab: %s\n", e.what());
    return 2;
  }
}
