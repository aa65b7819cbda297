// Paired A/B of target forwards in one process: two kernel-tuning settings (see
// src/kernels/tuning.h) alternate step by step, so a shared machine's slow drifts hit both
// alike, and each A step is compared with the B step beside it.
//
//   build/rooflm_ab --a pf_dist=2 --b pf_dist=4            # decode steps
//   build/rooflm_ab --a pf_dist=2 --b pf_dist=4 --nodes 4  # 4-node verify forwards
//   build/rooflm_ab --nodes 1 --nodes-b 8                  # verify cost t(8) / t(1)
//   build/rooflm_ab --b-read                               # decode step vs a read of its bytes
//   build/rooflm_ab --b-read-chain                         # ... vs reads shaped like its matmuls
//   build/rooflm_ab --a-read-chain --b-read                # the matmuls' shape vs one read
//   build/rooflm_ab --a-read-chain --b-read --read-pieces 121   # ... vs that read in 121 dispatches
//
// --nodes 1 times decode steps (each commits its token; the context grows from the prompt
// to --ctx-max, then is cut back). --nodes N > 1 times forwards over a chain of N nodes of
// which only the root is committed (a speculative step whose candidates were all rejected).
// --nodes-b M gives B forwards of M nodes instead (same settings unless --b says otherwise),
// so B/A is the cost of an M-node forward relative to an N-node one at the same context.
// Pairs run A,B then B,A in turn. Reported: median ms of each side, and the median of the
// per-pair ratios B/A with its quartiles and the share of pairs where B was faster.
// --b-read makes each B side a read of as many bytes as an A forward's matmuls read (counted by
// the profiler in one forward first), with the probe's read kernel on the same threads, each
// thread its share in a buffer of its own: B/A is then the share of the memory roof the
// forward reaches, measured against a roof taken next to it rather than seconds apart.
// --b-read-chain makes each B side read the packed weights themselves the way a decode step's
// matmuls do, with no arithmetic, attention or row ops: one pool dispatch per matmul of the
// forward in its order (q/k/v, o, gate/up, down per layer, then the output projection), each
// thread reading its own share of the matrices (the matmul's split, weight_share in
// src/kernels/matmul.h) with the probe's read kernel. --a-read-chain puts that on the A side
// (with --b-read: what the op structure alone costs against one read of the same bytes).
// --read-pieces K splits the --b-read read into K dispatches, each thread reading the next
// K-th of its slice in each: what stopping and restarting the streams at a barrier costs.
// --profile also prints ms per forward of every op class for A and B (the profiler's timers
// add a little to every op, so the two sides are compared with each other, not with runs
// without it).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/matmul.h"
#include "kernels/tuning.h"
#include "model/model.h"
#include "model/session.h"
#include "roofline/probe.h"
#include "roofline/profiler.h"

namespace {

using namespace rooflm;

struct Args {
  std::string model = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  std::string a, b;
  int threads = 2, pairs = 200, warmup = 20, nodes = 1, nodes_b = 0, prompt_len = 32;
  int64_t ctx_max = 1000;
  int read_pieces = 1;
  bool profile = false, b_read = false, b_read_chain = false, a_read_chain = false;
};

void usage() {
  std::printf(
      "usage: rooflm_ab --a NAME=V[,NAME=V] --b NAME=V[,NAME=V] [-m MODEL] [-t THREADS] [--pairs P]\n"
      "                 [--nodes N] [--nodes-b M] [--ctx-max C] [--prompt-len L] [--warmup W] [--profile]\n"
      "                 [--b-read [--read-pieces K] | --b-read-chain] [--a-read-chain]\n"
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
    // flags without a value
    const std::pair<const char*, bool*> switches[] = {
        {"--profile", &a.profile}, {"--b-read", &a.b_read}, {"--b-read-chain", &a.b_read_chain},
        {"--a-read-chain", &a.a_read_chain}};
    bool* on = nullptr;
    for (const auto& [name, flag] : switches)
      if (f == name) on = flag;
    if (on) {
      *on = true;
      continue;
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
    else if (f == "--nodes-b") a.nodes_b = to_int(f, v, 1);
    else if (f == "--prompt-len") a.prompt_len = to_int(f, v, 1);
    else if (f == "--ctx-max") a.ctx_max = to_int(f, v, 2);
    else if (f == "--read-pieces") a.read_pieces = to_int(f, v, 1);
    else fail("unknown flag '", f, "' (see --help)");
  }
  if (a.nodes_b == 0) a.nodes_b = a.nodes;
  if (a.b_read && a.b_read_chain) fail("--b-read, --b-read-chain: give one of them");
  if (a.read_pieces > 1 && !a.b_read) fail("--read-pieces: splits the --b-read read; give --b-read");
  const bool b_reads = a.b_read || a.b_read_chain;
  if (b_reads && (!a.b.empty() || a.nodes_b != a.nodes))
    fail(a.b_read ? "--b-read" : "--b-read-chain", ": the B side is a memory read; it takes no --b settings and no --nodes-b");
  if (a.a_read_chain && (!a.b_read || a.nodes != 1 || !a.a.empty()))
    fail("--a-read-chain: the A side is the read chain of a decode step; it needs --b-read, no --nodes and no --a");
  if ((a.b_read_chain || a.a_read_chain) && a.nodes != 1)
    fail("--b-read-chain: reads shaped like a decode step's matmuls; it takes no --nodes");
  if (a.a.empty() && a.b.empty() && a.nodes_b == a.nodes && !b_reads)
    fail("--a, --b, --nodes-b: give at least one setting or node count that differs (see --help)");
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
  const int max_nodes = std::max(args.nodes, args.nodes_b);
  SessionOptions so;
  so.n_ctx = args.ctx_max + max_nodes + 1;
  so.max_logits = max_nodes;
  Session s(*model, so, pool);
  if (args.prompt_len + max_nodes + 1 > s.n_ctx())
    fail("--prompt-len ", args.prompt_len, " + nodes ", max_nodes, " does not fit the context (", s.n_ctx(), ")");
  const int64_t n_vocab = s.n_vocab();
  std::vector<int32_t> prompt((size_t)args.prompt_len);
  for (int i = 0; i < args.prompt_len; i++) prompt[(size_t)i] = (int32_t)((100 + 37 * i) % n_vocab);
  s.prefill(prompt);

  std::vector<int32_t> tokens((size_t)max_nodes), parents((size_t)max_nodes);
  const std::vector<int32_t> root_only{0};
  int32_t next = 42;
  // One forward of n nodes under settings t; returns its milliseconds.
  auto step = [&](const KernelTuning& t, int n) {
    kernel_tuning() = t;
    if (s.n_past() + max_nodes + 1 > args.ctx_max) s.truncate(args.prompt_len);
    for (int i = 0; i < n; i++) {
      tokens[(size_t)i] = next;
      parents[(size_t)i] = i - 1;
      next = (int32_t)((next * 31 + 7) % n_vocab);
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (n == 1) {
      s.decode(tokens[0]);
    } else {
      s.forward(tokens.data(), parents.data(), n, true);
      s.commit(root_only);
    }
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  // --b-read-chain / --a-read-chain: each matmul of a decode step as one dispatch of reads.
  using Group = std::vector<const WeightMatrix*>;
  std::vector<Group> chain;
  for (const LayerWeights& L : model->weights().layers) {
    if (L.wqkv.data) chain.push_back({&L.wqkv});
    else chain.push_back({&L.wq, &L.wk, &L.wv});
    chain.push_back({&L.wo});
    if (L.w_gate.data) chain.push_back({&L.w_gate, &L.w_up});
    else chain.push_back({&L.w_up});
    chain.push_back({&L.w_down});
  }
  chain.push_back({&model->weights().output});
  double chain_bytes = 0;
  for (const Group& g : chain)
    for (const WeightMatrix* w : g) {
      if (!w->packed) fail("--b-read-chain: matrix of ", w->rows, " x ", w->cols, " is not packed (only quantized weights are)");
      chain_bytes += (double)w->packed_bytes;
    }
  // (read_pass reads whole 256-byte steps: a share's last <256 bytes are skipped, ~0.1% here)
  auto read_chain_step = [&] {
    std::atomic<uint64_t> sink{0};
    const auto t0 = std::chrono::steady_clock::now();
    for (const Group& g : chain) {
      pool.run_on_all([&](int t) {
        ByteRange r[4];
        weight_share(g.data(), (int)g.size(), t, pool.size(), r);
        uint64_t acc = 0;
        for (size_t m = 0; m < g.size(); m++) acc += roofline::read_pass(r[m].p, r[m].n);
        sink += acc;
      });
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (sink.load() == 1) std::printf(" ");  // keeps the reads
    return ms;
  };
  // --b-read: the bytes one A forward's matmuls read, shared out in contiguous slices, each
  // slice written first by the thread that reads it.
  std::vector<std::unique_ptr<roofline::ReadBuffer>> slices((size_t)args.threads);
  size_t slice = 0;
  double read_bytes = 0;
  if (args.b_read && args.a_read_chain) {
    read_bytes = chain_bytes;
  } else if (args.b_read) {
    prof::reset();
    prof::enable(true);
    step(ta, args.nodes);
    prof::enable(false);
    for (const prof::Aggregate& g : prof::snapshot())
      if (g.op != prof::OpClass::qk_pv && g.op != prof::OpClass::other) read_bytes += g.bytes;
  }
  size_t piece = 0;  // bytes of a slice read in one dispatch (--read-pieces)
  if (args.b_read) {
    slice = ((size_t)read_bytes / (size_t)args.threads + 255) / 256 * 256;
    piece = (slice / (size_t)args.read_pieces + 255) / 256 * 256;
    slice = piece * (size_t)args.read_pieces;
    pool.run_on_all([&](int t) {
      slices[(size_t)t] = std::make_unique<roofline::ReadBuffer>(slice);
      std::memset(slices[(size_t)t]->p, t + 1, slice);
    });
  }
  auto read_step = [&] {
    std::atomic<uint64_t> sink{0};
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < args.read_pieces; k++)
      pool.run_on_all([&](int t) { sink += roofline::read_pass(slices[(size_t)t]->p + k * piece, piece); });
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (sink.load() == 1) std::printf(" ");  // keeps the reads
    return ms;
  };
  auto a_step = [&] { return args.a_read_chain ? read_chain_step() : step(ta, args.nodes); };
  auto b_step = [&] {
    return args.b_read ? read_step() : args.b_read_chain ? read_chain_step() : step(tb, args.nodes_b);
  };
  for (int i = 0; i < args.warmup; i++) {
    if (i % 2) b_step();
    else a_step();
  }
  std::vector<double> ms_a, ms_b, ratio;
  prof::reset();
  prof::enable(args.profile);
  for (int p = 0; p < args.pairs; p++) {
    double x = 0, y = 0;
    auto side_a = [&] {
      prof::set_phase("A");
      x = a_step();
    };
    auto side_b = [&] {
      prof::set_phase("B");
      y = b_step();
    };
    if (p % 2 == 0) {
      side_a();
      side_b();
    } else {
      side_b();
      side_a();
    }
    ms_a.push_back(x);
    ms_b.push_back(y);
    ratio.push_back(y / x);
  }
  int b_faster = 0;
  for (double r : ratio) b_faster += r < 1.0;
  auto what = [](int n) { return n == 1 ? std::string("decode steps") : std::to_string(n) + "-node forwards"; };
  std::printf("%s | %d threads | %d pairs | context %d..%lld\n", args.model.c_str(), args.threads, args.pairs,
              args.prompt_len, (long long)args.ctx_max);
  if (args.a_read_chain)
    std::printf("A: reads of the %.1f MB of packed weights shaped like a decode step's matmuls (one dispatch each)\n",
                chain_bytes / 1e6);
  else
    std::printf("A: %s, %s\n", what(args.nodes).c_str(), args.a.empty() ? "default settings" : args.a.c_str());
  if (args.b_read_chain)
    std::printf("B: reads of the %.1f MB of packed weights shaped like A's matmuls (one dispatch each, no arithmetic)\n",
                chain_bytes / 1e6);
  else if (args.b_read)
    std::printf("B: one read of %.1f MB (the bytes of A's matmuls) on the same threads%s; B/A = share of the roof\n",
                (double)slice * args.threads / 1e6,
                args.read_pieces > 1 ? (" in " + std::to_string(args.read_pieces) + " dispatches").c_str() : "");
  else
    std::printf("B: %s, %s\n", what(args.nodes_b).c_str(), args.b.empty() ? "default settings" : args.b.c_str());
  std::printf("median ms: A %.3f, B %.3f\n", quantile(ms_a, 0.5), quantile(ms_b, 0.5));
  std::printf("B/A per pair: median %.3f [quartiles %.3f - %.3f]; B faster in %d of %d pairs\n", quantile(ratio, 0.5),
              quantile(ratio, 0.25), quantile(ratio, 0.75), b_faster, args.pairs);
  if (args.profile) {
    prof::enable(false);
    std::printf("ms per forward by op class (profiled):\n%-14s %9s %9s\n", "op", "A", "B");
    for (prof::OpClass op : prof::all_op_classes()) {
      double ms[2] = {0, 0};
      for (const prof::Aggregate& g : prof::snapshot())
        if (g.op == op) ms[g.phase == "B"] += (double)g.ns / 1e6 / args.pairs;
      if (ms[0] > 0 || ms[1] > 0) std::printf("%-14s %9.3f %9.3f\n", prof::op_name(op), ms[0], ms[1]);
    }
  }
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
