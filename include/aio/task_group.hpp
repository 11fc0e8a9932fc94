// aio/task_group.hpp — asyncio.TaskGroup: structured concurrency.
//
//   co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
//     auto a = tg.create_task(fetch(1));
//     auto b = tg.create_task(fetch(2));
//     co_return;
//   });   // returns when every task of the group is done
//
// The body runs inline in the current task (asyncio's `async with TaskGroup() as tg:`). The
// first task to fail with anything but cancellation cancels the other tasks and the body; when
// all are done the errors are thrown together as an ExceptionGroup. A cancellation of the
// enclosing task cancels the group's tasks and comes out as CancelledError (unless errors took
// priority). A KeyboardInterrupt in a task or the body is rethrown as itself. asyncio 3.13's
// taskgroups.py, rule for rule.
#pragma once

#include <exception>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/future.hpp"
#include "aio/loop.hpp"
#include "aio/task.hpp"

namespace aio {

namespace detail {

class TaskGroupState : public std::enable_shared_from_this<TaskGroupState> {
 public:
  /// __aenter__: the running loop and the current task become the group's.
  TaskGroupState();

  /// RuntimeError when the group has finished or is shutting down.
  void check_can_create() const;
  /// Tracks a new task; `it` is where it sits in the list.
  std::list<TaskRef>::iterator track(TaskRef task);
  /// _on_task_done.
  void task_done(std::list<TaskRef>::iterator it);
  /// __aexit__: `error` is what the body threw (or null).
  Coro<void> exit(std::exception_ptr error);
  /// TaskGroup.cancel().
  void cancel();
  EventLoop& loop() const noexcept { return *loop_; }

 private:
  void abort();

  EventLoop* loop_;
  TaskRef parent_;
  std::list<TaskRef> tasks_;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr base_error_;  // a KeyboardInterrupt: rethrown as itself
  std::optional<Future<void>> on_completed_;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
};

}  // namespace detail

/// A handle on a running group (copyable). create_task() after the group ended, or while it
/// is shutting down after a failure, is a RuntimeError.
class TaskGroup {
 public:
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name = {}) {
    return create_task(std::move(coro), TaskOptions{.name = std::move(name)});
  }
  /// The task runs in `context` itself (asyncio's context= argument), not in a copy.
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name, Context context) {
    return create_task(std::move(coro), TaskOptions{.name = std::move(name), .context = context});
  }
  /// create_task(coro, {.name = ..., .context = ..., .eager_start = ...}).
  template <class T>
  Task<T> create_task(Coro<T> coro, TaskOptions options) {
    state_->check_can_create();
    Task<T> task = make_task(state_->loop(), std::move(coro), std::move(options));
    // Even a task that finished in an eager first step is seen done through its callback (a
    // loop turn later, asyncio's gh-128550): a failure then cancels the siblings created in
    // the meantime too, the one whose step created it among them.
    auto it = state_->track(task);
    task.add_done_callback([state = state_, it](Future<T>&) { state->task_done(it); });
    return task;
  }
  template <class A>
  requires(detail::Awaitable<A> && !detail::IsCoro<A>::value &&
           !std::is_reference_v<A>) auto create_task(A aw, std::string name = {}) {
    return create_task(detail::await_in_coro(std::move(aw)), std::move(name));
  }
  template <class A>
  requires(detail::Awaitable<A> && !detail::IsCoro<A>::value &&
           !std::is_reference_v<A>) auto create_task(A aw, TaskOptions options) {
    return create_task(detail::await_in_coro(std::move(aw)), std::move(options));
  }

  /// asyncio 3.15's TaskGroup.cancel(): ends the group early, and not as an error. Cancels
  /// every task of the group that is not done and the body; the group then exits without
  /// CancelledError (and without an ExceptionGroup, unless a task failed). Idempotent; nothing
  /// happens once the group has ended. (A TaskGroup exists only inside task_group(), so
  /// asyncio's cancel-before-entering has no counterpart.)
  void cancel() { state_->cancel(); }

 private:
  template <class F>
  friend Coro<void> task_group(F body);
  explicit TaskGroup(std::shared_ptr<detail::TaskGroupState> state) : state_(std::move(state)) {}

  std::shared_ptr<detail::TaskGroupState> state_;
};

/// Runs `body(tg)` (a callable returning a Coro<void>) as `async with TaskGroup() as tg:`.
template <class F>
Coro<void> task_group(F body) {
  TaskGroup tg(std::make_shared<detail::TaskGroupState>());
  std::exception_ptr error;
  try {
    co_await body(tg);
  } catch (...) {
    error = std::current_exception();
  }
  co_await tg.state_->exit(error);
}

}  // namespace aio
