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
    return create_in(std::move(coro), std::move(name), nullptr);
  }
  /// The task runs in `context` itself (asyncio's context= argument), not in a copy.
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name, Context context) {
    return create_in(std::move(coro), std::move(name), detail::ContextAccess::state(context));
  }
  template <class A>
  requires(detail::Awaitable<A> && !detail::IsCoro<A>::value &&
           !std::is_reference_v<A>) auto create_task(A aw, std::string name = {}) {
    return create_task(detail::await_in_coro(std::move(aw)), std::move(name));
  }

 private:
  template <class T>
  Task<T> create_in(Coro<T> coro, std::string name, std::shared_ptr<detail::ContextState> context) {
    state_->check_can_create();
    Task<T> task = make_task(state_->loop(), std::move(coro), std::move(name), std::move(context));
    if (task.done()) {
      state_->task_done(state_->track(task));
    } else {
      auto it = state_->track(task);
      task.add_done_callback([state = state_, it](Future<T>&) { state->task_done(it); });
    }
    return task;
  }

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
