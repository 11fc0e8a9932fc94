// The default executor: a pool of worker threads, started lazily, bounded.
#include <algorithm>
#include <utility>

#include "aio/errors.hpp"
#include "aio/executor.hpp"

namespace aio {

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers)
    : max_workers_(max_workers
                       ? max_workers
                       : std::min<std::size_t>(32, std::thread::hardware_concurrency() + 4)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  shutdown(true);
}

void ThreadPoolExecutor::submit(std::function<void()> work) {
  std::unique_lock lock(mutex_);
  if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
  queue_.push_back(std::move(work));
  // A new worker only when none is idle to take the work (and the bound allows it).
  if (idle_ < queue_.size() && workers_.size() < max_workers_) {
    workers_.emplace_back([this] { work_loop(); });
  }
  lock.unlock();
  wake_.notify_one();
}

void ThreadPoolExecutor::work_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    wake_.wait(lock, [this] { return shutdown_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // shut down and drained
    std::function<void()> work = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    work();  // the callables given to us catch their own exceptions
    lock.lock();
  }
}

void ThreadPoolExecutor::shutdown(bool wait) {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
    if (wait) workers.swap(workers_);  // without `wait` the destructor joins them
  }
  wake_.notify_all();
  for (std::thread& t : workers) t.join();
}

}  // namespace aio
