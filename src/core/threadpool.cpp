#include "core/threadpool.h"

#include <chrono>
#include <system_error>

#include "core/error.h"

namespace rooflm {

// Waiting threads spin on a plain load, without PAUSE: on a virtual machine a loop of PAUSE
// instructions triggers pause-loop exiting, and the hypervisor hands the spinning vCPU to
// another guest; the next job then waits for it to be scheduled back (measured on this
// project's 2-vCPU VM: decode 1.46x faster without PAUSE, steal time unchanged). The cores are
// not hyperthreaded siblings here, so the spin starves no one. Spinning is bounded by time:
// ~200 us bridges the gaps between the kernels of a decode step and between tokens; after it a
// worker sleeps and the caller yields, so an idle pool costs nothing.
constexpr int64_t kSpinNs = 200'000;

namespace {
// Spins until done() or kSpinNs have passed; true if done() became true.
template <typename F>
bool spin_until(const F& done) {
  if (done()) return true;
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 256; i++)
      if (done()) return true;
    if (std::chrono::steady_clock::now() - t0 > std::chrono::nanoseconds(kSpinNs)) return done();
  }
}
}  // namespace

// More threads than kMaxThreads only thrash (1,024 on 2 cores already take 6 s a token, as
// every job wakes them all); the bound keeps a typo in -t from hanging the run.
ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads) {
  if (n_threads < 1 || n_threads > kMaxThreads) fail("threads: expected 1..", kMaxThreads, ", got ", n_threads);
  try {
    for (int i = 1; i < n_threads; i++) workers_.emplace_back([this, i] { worker_loop(i); });
  } catch (const std::system_error& e) {
    // The destructor will not run for a constructor that throws, and destroying joinable
    // threads would terminate the process: join the ones started here.
    const size_t started = workers_.size();
    stop_workers();
    fail("threads: the system started only ", started + 1, " of ", n_threads, " threads (", e.what(), ")");
  }
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  stop_.store(true);
  generation_.fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(mu_);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin first: decode issues hundreds of small jobs per token and a futex wake-up per
    // job would cost more than the work.
    uint64_t gen = seen;
    spin_until([&] { return (gen = generation_.load(std::memory_order_acquire)) != seen; });
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      sleepers_.fetch_add(1);
      cv_.wait(lock, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
      gen = generation_.load();
    }
    seen = gen;
    if (stop_.load()) return;
    (*job_.load(std::memory_order_acquire))(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
  if (n_threads_ == 1) {
    fn(0);
    return;
  }
  job_.store(&fn, std::memory_order_release);
  pending_.store(n_threads_ - 1, std::memory_order_release);
  generation_.fetch_add(1);  // seq_cst: pairs with the sleepers_ increment in worker_loop
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(mu_); }  // a worker between its check and wait() now waits
    cv_.notify_all();
  }
  fn(0);
  // Wait for the others; past the spin budget a worker was descheduled (more threads than
  // free cores, or the hypervisor took its vCPU): yield until it is done.
  auto all_done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(all_done))
    while (!all_done()) std::this_thread::yield();
}

void ThreadPool::parallel_for(int64_t n, const RangeFn& fn, int64_t grain) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  const int64_t n_grains = (n + grain - 1) / grain;
  const int parts = (int)std::min<int64_t>(n_threads_, n_grains);
  if (parts <= 1) {
    fn(0, n, 0);
    return;
  }
  // One pointer captured, so the std::function stays in its small buffer: no allocation.
  struct Split {
    const RangeFn* fn;
    int64_t n, grain, n_grains;
    int parts;
  } split{&fn, n, grain, n_grains, parts};
  const Split* s = &split;
  run_on_all([s](int t) {
    if (t >= s->parts) return;
    const int64_t g0 = s->n_grains * t / s->parts, g1 = s->n_grains * (t + 1) / s->parts;
    const int64_t b = g0 * s->grain, e = std::min(s->n, g1 * s->grain);
    if (b < e) (*s->fn)(b, e, t);
  });
}

}  // namespace rooflm
