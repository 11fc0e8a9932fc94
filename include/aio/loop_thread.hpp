// aio/loop_thread.hpp — event loops that run on threads of their own.
//
// asyncio runs one loop per thread and leaves starting the threads to the program. A
// LoopThread is a loop running on its own thread until it is stopped: its destructor stops it
// (the tasks left are cancelled and awaited, async generators and the default executor shut
// down, as asyncio.run() ends) and joins the thread. A LoopGroup is N of them, one per core
// by default, optionally pinned. Reach their loops with run_on() / call_on()
// (aio/run_on.hpp), call_soon_threadsafe() or run_coroutine_threadsafe(); run_parallel()
// (aio/parallel.hpp) is the one-call form.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "aio/loop.hpp"
#include "aio/run_options.hpp"

namespace aio {

struct LoopThreadOptions {
  RunOptions run{};  // the loop's options (backend, debug, virtual time...)
  std::optional<int>
      cpu;  // pin the thread to this CPU (sched_setaffinity); RuntimeError if it cannot
};

class LoopThread {
 public:
  /// Starts the thread and returns once its loop runs (RuntimeError if it could not start).
  explicit LoopThread(LoopThreadOptions options = {});
  /// stop() and join(); an exception that ended the loop is reported on stderr.
  ~LoopThread();
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  /// The loop (valid until the LoopThread goes; closed once stopped).
  EventLoop& loop() const noexcept { return *loop_; }
  std::thread::id thread_id() const noexcept { return thread_.get_id(); }
  /// Asks the loop to shut down, from any thread, and returns at once: calls from other loops
  /// are refused from now on, the tasks left are cancelled and awaited, the loop closes.
  /// Idempotent.
  void stop() noexcept;
  /// stop() and wait until the thread has ended; rethrows what ended the loop abnormally (a
  /// KeyboardInterrupt from a task, say). Not from the loop's own thread (RuntimeError).
  void join();

 private:
  struct Shared;
  static void serve(const std::shared_ptr<Shared>& shared, const LoopThreadOptions& options);
  std::shared_ptr<Shared> shared_;
  EventLoop* loop_ = nullptr;
  std::thread thread_;
};

struct LoopGroupOptions {
  RunOptions run{};
  bool pin_cpus = false;  // loop i on CPU i modulo the CPUs this process may use
  /// How long an idle loop of the group polls for the other loops' posts (and its I/O) before
  /// it sleeps: RunOptions::busy_poll for each loop, unless `run` sets one. Loops that talk to
  /// each other answer in a fraction of a microsecond when the peer still polls, and in tens
  /// of microseconds when it must be woken from epoll_wait; 0 turns it off.
  Duration spin = 50e-6;
};

/// N loops, each on its own thread (LoopThread).
class LoopGroup {
 public:
  /// n >= 1 (std::invalid_argument otherwise); n = 0 means one per CPU the process may use.
  explicit LoopGroup(int n = 0, LoopGroupOptions options = {});
  ~LoopGroup();  // stops every loop, then joins them
  LoopGroup(const LoopGroup&) = delete;
  LoopGroup& operator=(const LoopGroup&) = delete;

  std::size_t size() const noexcept { return loops_.size(); }
  EventLoop& operator[](std::size_t i) const noexcept { return *loops_[i]; }
  /// Every loop, in order (a stable span while the group lives).
  std::span<EventLoop* const> loops() const noexcept { return loops_; }
  /// Which of the group's loops runs on this thread, or -1.
  int index_here() const noexcept;
  void stop() noexcept;
  /// Joins every loop; rethrows the first abnormal end.
  void join();

 private:
  std::vector<std::unique_ptr<LoopThread>> threads_;
  std::vector<EventLoop*> loops_;
};

/// The number of CPUs this process may run on (its affinity mask), at least 1.
int usable_cpus() noexcept;

}  // namespace aio
