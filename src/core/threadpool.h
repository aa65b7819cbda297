// A fixed pool of worker threads, created once. parallel_for splits [0, n) into one
// contiguous chunk per thread (the caller's thread takes chunk 0), so there is no per-op
// thread creation and no queue: workers spin briefly, then sleep on a condition variable.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rooflm {

class ThreadPool {
 public:
  // fn(begin, end, thread_index)
  using RangeFn = std::function<void(int64_t, int64_t, int)>;

  // 1..kMaxThreads threads, else Error. If the system refuses a thread, the ones started are
  // joined and an Error says how many could start.
  explicit ThreadPool(int n_threads);
  static constexpr int kMaxThreads = 1024;
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn over [0, n) split into size() chunks whose boundaries are multiples of `grain`
  // (except the last). Blocks until all chunks are done.
  void parallel_for(int64_t n, const RangeFn& fn, int64_t grain = 1);

  // Runs fn(thread_index) once on every thread.
  void run_on_all(const std::function<void(int)>& fn);

 private:
  void worker_loop(int index);
  void stop_workers();

  int n_threads_;
  std::vector<std::thread> workers_;
  // Dispatch is lock-free: the job pointer is published before the generation counter is
  // bumped; workers spin on the counter. The mutex/condvar only serve workers that gave up
  // spinning and sleep (counted in sleepers_, so the caller notifies only when needed).
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<const std::function<void(int)>*> job_{nullptr};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace rooflm
