#include "core/threadpool.h"

#include <immintrin.h>

#include "core/error.h"

namespace rooflm {

// ~100 us of spinning (pause is ~40-140 cycles) before sleeping: long enough to bridge the
// gap between two kernels of a decode step, short enough not to starve other processes.
constexpr int kSpinIterations = 2000;

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads) {
  if (n_threads < 1) fail("threads: expected at least 1, got ", n_threads);
  for (int i = 1; i < n_threads; i++) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin a little first: decode issues hundreds of small jobs per token and a
    // futex wake-up per job would cost more than the work.
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; spin++) {
      _mm_pause();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load() != seen; });
      gen = generation_.load();
    }
    seen = gen;
    const std::function<void(int)>* job;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      job = job_;
    }
    (*job)(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
  if (n_threads_ == 1) {
    fn(0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    pending_.store(n_threads_ - 1, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  cv_.notify_all();
  fn(0);
  // Wait for the others; yield now and then in case a worker was descheduled (more
  // threads than free cores).
  for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; spin++) {
    if (spin < kSpinIterations) _mm_pause();
    else std::this_thread::yield();
  }
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
  run_on_all([&](int t) {
    if (t >= parts) return;
    const int64_t g0 = n_grains * t / parts, g1 = n_grains * (t + 1) / parts;
    const int64_t b = g0 * grain, e = std::min(n, g1 * grain);
    if (b < e) fn(b, e, t);
  });
}

}  // namespace rooflm
