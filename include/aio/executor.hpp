// aio/executor.hpp — concurrent.futures' role in asyncio: where blocking work runs.
//
// An Executor runs plain callables on other threads. ThreadPoolExecutor is asyncio's default
// executor: up to min(32, cores + 4) worker threads, started only as work arrives, kept for
// reuse. loop.run_in_executor() and aio::to_thread() use the loop's default one unless told
// otherwise. submit() is thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

namespace aio {

namespace detail {
/// Whether a submitted job may still run: a cancel() before the worker's begin() wins, and the
/// job is skipped; after begin() a cancel() changes nothing (concurrent.futures' cancel()).
class JobStart {
 public:
  bool begin() noexcept { return move_from_pending(running); }
  void cancel() noexcept { move_from_pending(cancelled); }

 private:
  enum : int { pending, running, cancelled };
  bool move_from_pending(int to) noexcept {
    int expected = pending;
    return state_.compare_exchange_strong(expected, to, std::memory_order_acq_rel);
  }
  std::atomic<int> state_{pending};
};
}  // namespace detail

class Executor {
 public:
  virtual ~Executor() = default;
  /// Runs `work` on some thread, some time soon. RuntimeError after shutdown().
  virtual void submit(std::function<void()> work) = 0;
  /// No more submissions; with `wait`, returns once all submitted work has run.
  virtual void shutdown(bool wait = true) = 0;
};

class ThreadPoolExecutor final : public Executor {
 public:
  /// 0: asyncio's default, min(32, cores + 4).
  explicit ThreadPoolExecutor(std::size_t max_workers = 0);
  ~ThreadPoolExecutor() override;  // shutdown(true)
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  void submit(std::function<void()> work) override;
  void shutdown(bool wait = true) override;
  std::size_t max_workers() const noexcept { return max_workers_; }

 private:
  struct Pool;  // the workers, their queue and its lock (src/threads/thread_pool.cpp)
  void work_loop();

  std::size_t max_workers_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace aio
