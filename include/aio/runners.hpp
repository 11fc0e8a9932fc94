// aio/runners.hpp — asyncio.run() and asyncio.Runner.
//
// run(main) makes a loop, runs `main` as a task until it is done, then cancels whatever tasks
// are left and waits for them, and closes the loop; its value (or exception) is main's. A
// Runner keeps one loop across several run() calls and closes it on close() or destruction.
// Both refuse to start from inside a running loop (RuntimeError). While a Runner is open its
// loop is the thread's current loop (get_event_loop()); closing leaves none, as asyncio. Each
// run() runs its task in the Runner's one context (a copy of the thread's, taken at the first
// run), so context variables set there are seen by the next run(), as in asyncio.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/loop.hpp"
#include "aio/run_options.hpp"
#include "aio/task.hpp"

namespace aio {

class Runner {
 public:
  explicit Runner(RunOptions options = {}) : options_(options) {}
  ~Runner();  // close(), swallowing errors
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  /// Runs `coro` as a task on the runner's loop until it is done; returns its value. The task
  /// runs in `context`, or by default in the runner's own.
  template <class T>
  T run(Coro<T> coro, std::optional<Context> context = std::nullopt) {
    check_can_run();
    EventLoop& loop = get_loop();
    if (!context_) context_ = copy_context();
    // While the runner's context is empty the task gets none (it makes its own if it sets a
    // variable, and the runner then keeps that one): a context costs every step a lookup.
    const bool adopt = !context && context_->size() == 0;
    Task<T> task = adopt ? Context().run([&] { return loop.create_task(std::move(coro)); })
                         : loop.create_task(std::move(coro), {}, context ? *context : *context_);
    KeepContext keep{adopt ? this : nullptr, task};
    Interrupts interrupts(loop, task);
    try {
      return loop.run_until_complete(task);
    } catch (const CancelledError&) {
      // Interrupted, and no one else cancelled the task: Ctrl+C is what the caller sees.
      if (interrupts.interrupted() && task.uncancel() == 0) throw KeyboardInterrupt();
      throw;
    }
  }
  /// Any other awaitable (asyncio 3.14: a Future, Task, sleep(), lock.acquire()...), awaited by
  /// a main task made for it.
  template <class A>
  requires(detail::Awaitable<A> && !detail::IsCoro<A>::value &&
           !std::is_reference_v<A>) auto run(A aw, std::optional<Context> context = std::nullopt) {
    return run(detail::await_in_coro(std::move(aw)), std::move(context));
  }
  /// The runner's loop (made on first use); RuntimeError("Runner is closed") after close().
  EventLoop& get_loop();
  /// Cancels the remaining tasks, waits for them, closes the loop. Idempotent. The closed loop
  /// stays (is_closed() is true) until the Runner goes, as asyncio's does.
  void close();

 private:
  // While a run() is on, Ctrl+C (SIGINT) is asyncio's Runner's: the first cancels the main
  // task; another, or one that comes when the main task is done already, stops the loop with
  // KeyboardInterrupt (asyncio raises it from the signal handler). Installed only when SIGINT
  // has its default handler and this is the main thread.
  class Interrupts {
   public:
    Interrupts(EventLoop& loop, TaskRef main);
    ~Interrupts();
    Interrupts(const Interrupts&) = delete;
    Interrupts& operator=(const Interrupts&) = delete;
    /// Ctrl+C cancelled the main task.
    bool interrupted() const noexcept { return *count_ > 0; }

   private:
    EventLoop& loop_;
    std::shared_ptr<int> count_ = std::make_shared<int>(0);
    bool installed_ = false;
  };

  void check_can_run() const;
  // After a run() whose task got no context: the one it made, if it set a variable, becomes the
  // runner's.
  struct KeepContext {
    Runner* runner;
    TaskRef task;
    ~KeepContext() {
      if (runner) runner->adopt_context(task);
    }
  };
  void adopt_context(const TaskRef& task) noexcept;

  RunOptions options_;
  std::optional<Context> context_;
  std::unique_ptr<EventLoop> loop_;
  bool closed_ = false;
};

/// asyncio.run(): RuntimeError when called while a loop runs in this thread.
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
  if (detail::this_thread.running_loop) {
    throw RuntimeError("aio::run() cannot be called from a running event loop");
  }
  Runner runner(options);
  return runner.run(std::move(main));
}
/// asyncio 3.14's run() of any awaitable: `aio::run(aio::sleep(1))`.
template <class A>
requires(detail::Awaitable<A> && !detail::IsCoro<A>::value &&
         !std::is_reference_v<A>) auto run(A main, RunOptions options = {}) {
  return run(detail::await_in_coro(std::move(main)), options);
}

}  // namespace aio
