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
  /// An awaitable's hook cancelled it with `msg`: the CancelledError to throw carries it.
  void note_cancel_message(std::string_view msg);
  /// Throws CancelledError with the task's cancel message.
  [[noreturn]] void throw_cancelled();
  /// Queues the next step (the task is woken).
  void schedule() { schedule_on(future_->loop(), this); }

 protected:
  explicit TaskCore(FutureBase* future) noexcept : future_(future) {}  // NOLINT
  ~TaskCore() = default;

  /// Turns a coroutine into a task on `loop` and schedules its first step.
  void start(EventLoop& loop);
  /// The root coroutine ended: settle the future from what it left behind.
  void finish() noexcept;

  // Small state first: it fits in the Runnable's tail padding.
  bool must_cancel_ : 1 = false;
  bool deliver_cancel_ : 1 = false;
  bool ended_by_cancel_ : 1 = false;     // CancelledError escaped the coroutine
  bool ended_by_interrupt_ : 1 = false;  // KeyboardInterrupt escaped: also leaves the loop
  bool claimed_ : 1 = false;             // the Coro was awaited or made a task
  bool started_ : 1 = false;             // the task took its first step
  std::int32_t cancel_requests_ = 0;
  FutureBase* future_;
  // A task: where the next step resumes. A Coro awaited inline: the awaiter to return to.
  std::coroutine_handle<> resume_point_;
  CancelHook* hook_ = nullptr;
  std::unique_ptr<std::string> name_;
  std::uint64_t id_ = 0;

 public:
  // Intrusive list of the loop's unfinished tasks (all_tasks()); declared last so that the
  // small fields above pack into the Runnable's padding.
  TaskCore* prev_task = nullptr;
  TaskCore* next_task = nullptr;

 private:
  void cancel_awaited();
  void cancel_before_start() noexcept;
};

/// "<Task pending name='Task-1' coro=<main()>>".
std::string task_repr(const TaskCore& task, const char* function);

}  // namespace aio::detail
