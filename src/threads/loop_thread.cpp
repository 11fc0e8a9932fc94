// LoopThread and LoopGroup: loops on threads of their own.
//
// The thread makes a Runner (so that the loop ends as asyncio.run() ends: leftover tasks
// cancelled and awaited, async generators and the default executor shut down), runs the loop
// until stop(), then closes it. The Runner, and so the loop object, lives in state shared with
// the LoopThread and is destroyed only after the join: stop() from another thread may come at
// any time, even after the loop has ended on its own (a task called loop.stop()).
#include "aio/loop_thread.hpp"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "aio/errors.hpp"
#include "aio/runners.hpp"
#include "core/loop_internals.hpp"

namespace aio {

struct LoopThread::Shared {
  std::mutex mutex;
  std::condition_variable started_cv;
  bool started = false;
  std::exception_ptr start_error;
  std::exception_ptr end_error;  // what ended the loop abnormally, for join()
  std::atomic<bool> stop_requested{false};
  std::optional<Runner> runner;
  EventLoop* loop = nullptr;
  bool serving = false;  // in run_forever() (the loop's thread only)
};

namespace {

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu < 0 || cpu >= CPU_SETSIZE) {
    throw std::invalid_argument("LoopThread: no CPU " + std::to_string(cpu));
  }
  CPU_SET(cpu, &set);
  if (const int e = ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set); e != 0) {
    throw RuntimeError("LoopThread: cannot pin the thread to CPU " + std::to_string(cpu) + ": " +
                       std::strerror(e));
  }
}

// The CPUs this process may use, in order.
std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace

int usable_cpus() noexcept {
  try {
    return static_cast<int>(allowed_cpus().size());
  } catch (...) {
    return 1;
  }
}

LoopThread::LoopThread(LoopThreadOptions options) : shared_(std::make_shared<Shared>()) {
  thread_ = std::thread([shared = shared_, options] { serve(shared, options); });
  std::unique_lock lock(shared_->mutex);
  shared_->started_cv.wait(lock, [&] { return shared_->started; });
  if (shared_->start_error) {
    lock.unlock();
    thread_.join();
    std::rethrow_exception(shared_->start_error);
  }
  loop_ = shared_->loop;
}

LoopThread::~LoopThread() {
  if (!thread_.joinable()) return;
  try {
    join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aio: a LoopThread's loop ended with %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "aio: a LoopThread's loop ended with an exception\n");
  }
}

void LoopThread::stop() noexcept {
  if (shared_->stop_requested.exchange(true)) return;
  detail::LoopInternals::refuse_new_work(*loop_);
  // Stopped from its own thread, and only while it serves: a stop() arriving while it already
  // shuts down (it stopped on its own) must not cut that short.
  try {
    loop_->call_soon_threadsafe([shared = shared_] {
      if (shared->serving) shared->loop->stop();
    });
  } catch (const RuntimeError&) {
    // Closed already.
  }
}

void LoopThread::join() {
  if (std::this_thread::get_id() == thread_.get_id()) {
    throw RuntimeError("LoopThread.join() from the loop's own thread would never return");
  }
  stop();
  if (thread_.joinable()) thread_.join();
  if (shared_->end_error) std::rethrow_exception(std::exchange(shared_->end_error, nullptr));
}

void LoopThread::serve(const std::shared_ptr<Shared>& shared, const LoopThreadOptions& options) {
  EventLoop* loop = nullptr;
  try {
    if (options.cpu) pin_to_cpu(*options.cpu);
    shared->runner.emplace(options.run);
    loop = &shared->runner->get_loop();
  } catch (...) {
    shared->runner.reset();
    std::lock_guard lock(shared->mutex);
    shared->start_error = std::current_exception();
    shared->started = true;
    shared->started_cv.notify_one();
    return;
  }
  {
    std::lock_guard lock(shared->mutex);
    shared->loop = loop;
    shared->started = true;
    shared->started_cv.notify_one();
  }
  try {
    shared->serving = true;
    loop->run_forever();  // until stop() (or a task's loop.stop())
  } catch (...) {
    shared->end_error = std::current_exception();
  }
  shared->serving = false;
  try {
    detail::LoopInternals::refuse_new_work(*loop);
    shared->runner->close();
  } catch (...) {
    if (!shared->end_error) shared->end_error = std::current_exception();
  }
}

LoopGroup::LoopGroup(int n, LoopGroupOptions options) {
  if (n < 0) throw std::invalid_argument("LoopGroup: the number of loops must be >= 0");
  const std::vector<int> cpus = allowed_cpus();
  if (n == 0) n = static_cast<int>(cpus.size());
  threads_.reserve(static_cast<std::size_t>(n));
  try {
    for (int i = 0; i < n; ++i) {
      LoopThreadOptions one{.run = options.run, .cpu = std::nullopt};
      if (one.run.busy_poll.seconds() <= 0) one.run.busy_poll = options.spin;
      if (options.pin_cpus) one.cpu = cpus[static_cast<std::size_t>(i) % cpus.size()];
      threads_.push_back(std::make_unique<LoopThread>(one));
      loops_.push_back(&threads_.back()->loop());
    }
  } catch (...) {
    stop();
    threads_.clear();  // joins those that started
    throw;
  }
}

LoopGroup::~LoopGroup() {
  stop();  // all at once: they shut down in parallel
  threads_.clear();
}

int LoopGroup::index_here() const noexcept {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    if (detail::LoopAccess::is_running_here(*loops_[i])) return static_cast<int>(i);
  }
  return -1;
}

void LoopGroup::stop() noexcept {
  for (auto& t : threads_) t->stop();
}

void LoopGroup::join() {
  stop();
  std::exception_ptr first;
  for (auto& t : threads_) {
    try {
      t->join();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace aio
