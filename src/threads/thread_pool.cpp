// The default executor: a pool of worker threads, started lazily, bounded.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "aio/errors.hpp"
#include "aio/executor.hpp"

namespace aio {

struct ThreadPoolExecutor::Pool {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> queue;
  std::vector<std::thread> workers;
  std::size_t idle = 0;
  bool shutdown = false;
};

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers)
    : max_workers_(max_workers
                       ? max_workers
                       : std::min<std::size_t>(32, std::thread::hardware_concurrency() + 4)),
      pool_(std::make_unique<Pool>()) {}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  shutdown(true);
}

void ThreadPoolExecutor::submit(std::function<void()> work) {
  Pool& pool = *pool_;
  std::unique_lock lock(pool.mutex);
  if (pool.shutdown) throw RuntimeError("cannot schedule new futures after shutdown");
  pool.queue.push_back(std::move(work));
  // A new worker only when none is idle to take the work (and the bound allows it).
  if (pool.idle < pool.queue.size() && pool.workers.size() < max_workers_) {
    pool.workers.emplace_back([this] { work_loop(); });
  }
  lock.unlock();
  pool.wake.notify_one();
}

void ThreadPoolExecutor::work_loop() {
  Pool& pool = *pool_;
  std::unique_lock lock(pool.mutex);
  for (;;) {
    ++pool.idle;
    pool.wake.wait(lock, [&pool] { return pool.shutdown || !pool.queue.empty(); });
    --pool.idle;
    if (pool.queue.empty()) return;  // shut down and drained
    std::function<void()> work = std::move(pool.queue.front());
    pool.queue.pop_front();
    lock.unlock();
    work();  // the callables given to us catch their own exceptions
    lock.lock();
  }
}

void ThreadPoolExecutor::shutdown(bool wait) {
  Pool& pool = *pool_;
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(pool.mutex);
    pool.shutdown = true;
    if (wait) workers.swap(pool.workers);  // without `wait` the destructor joins them
  }
  pool.wake.notify_all();
  for (std::thread& t : workers) t.join();
}

}  // namespace aio
