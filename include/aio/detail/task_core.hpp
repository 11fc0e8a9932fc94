// aio/detail/task_core.hpp — what makes a coroutine a Task: its step, and cancellation.
//
// A Task's state lives in its root coroutine's promise (one allocation per task). The loop
// resumes the innermost suspended frame (`resume_point`); awaiting a Coro inside a task is a
// symmetric transfer that never touches this state.
//
// Cancellation is one mechanism for every suspension point. An awaitable suspends through
// `suspend()`, naming a CancelHook (what to cancel: the awaited future, the timer...). Task
// cancel() fires the hook; if there is none, or it declines, the request is remembered
// (`must_cancel`) and delivered at the next step: the awaitable's await_resume calls
// `check_cancel()`, which throws CancelledError at that co_await. This is asyncio's
// Task.cancel()/__step, one to one.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "aio/detail/future_base.hpp"
#include "aio/detail/runnable.hpp"

namespace aio::detail {

/// What a suspended task waits on, as far as cancelling it goes.
struct CancelHook {
  /// Cancels the awaited operation so that the task wakes with CancelledError; false if the
  /// operation already completed (the task then gets the cancellation at its next step).
  virtual bool cancel(std::string_view msg) = 0;

 protected:
  ~CancelHook() = default;
};

class TaskCore;

/// Per-thread scheduling state: the running loop and the task it is stepping.
struct ThreadState {
  EventLoop* running_loop = nullptr;
  TaskCore* current_task = nullptr;
};
inline thread_local ThreadState this_thread;

class TaskCore : public Runnable {
 public:
  FutureBase& future() noexcept { return *future_; }
  const FutureBase& future() const noexcept { return *future_; }

  /// One step: deliver a pending cancellation, resume where the task is suspended.
  void run() override;

  /// Task.cancel(msg).
  bool request_cancel(std::string_view msg);
  std::int64_t uncancel() noexcept;
  std::int64_t cancelling() const noexcept { return cancel_requests_; }

  std::string name() const;
  void set_name(std::string name);
  std::uint64_t id() const noexcept { return id_; }

  /// The task stepping on this thread; RuntimeError outside a task.
  static TaskCore& current();

  /// Called from an awaitable's await_suspend: the task resumes `h` when woken, and cancel()
  /// goes to `hook` (nullptr: nothing to cancel, e.g. a bare yield).
  void suspend(std::coroutine_handle<> h, CancelHook* hook) noexcept {
    resume_point_ = h;
    hook_ = hook;
  }
  /// After the awaitable has registered its wake-up: a cancel requested while the task ran
  /// goes to the new hook now (asyncio cancels the awaited future at once).
  void after_suspend() {
    if (must_cancel_) [[unlikely]]
      cancel_awaited();
  }
  /// Called from every awaitable's await_resume: throws the CancelledError of a delivered
  /// cancellation.
  void check_cancel() {
    if (deliver_cancel_) [[unlikely]]
      throw_cancelled();
  }
  /// Queues the next step (the task is woken).
  void schedule() { schedule_on(future_->loop(), this); }

  // Intrusive list of the loop's unfinished tasks (all_tasks()).
  TaskCore* prev_task = nullptr;
  TaskCore* next_task = nullptr;

 protected:
  explicit TaskCore(FutureBase* future) noexcept : future_(future) {}
  ~TaskCore() = default;

  /// Turns a coroutine into a task on `loop` and schedules its first step.
  void start(EventLoop& loop);
  /// The root coroutine ended: settle the future from what it left behind.
  void finish() noexcept;

  FutureBase* future_;
  std::coroutine_handle<> resume_point_;
  CancelHook* hook_ = nullptr;
  std::unique_ptr<std::string> name_;
  std::uint64_t id_ = 0;
  std::int32_t cancel_requests_ = 0;
  bool must_cancel_ = false;
  bool deliver_cancel_ = false;
  bool ended_by_cancel_ = false;     // CancelledError escaped the coroutine
  bool ended_by_interrupt_ = false;  // KeyboardInterrupt escaped: also leaves the loop

 private:
  void cancel_awaited();
  [[noreturn]] void throw_cancelled();
};

/// "<Task pending name='Task-1' coro=<main()>>".
std::string task_repr(const TaskCore& task, const char* function);

}  // namespace aio::detail
