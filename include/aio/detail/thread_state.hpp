// aio/detail/thread_state.hpp — which loop, task and contextvars context this thread is running.
//
// (A task's state is a FutureBase, aio/detail/future_base.hpp, that says so: one class for the
// states of futures and tasks, whose task half holds the step, the cancellation protocol and
// the name.)
#pragma once

#include <string>
#include <utility>

#include "aio/detail/future_base.hpp"

namespace aio::detail {

struct ContextState;

/// Per-thread scheduling state: the running loop, the task it is stepping, and the contextvars
/// context code runs in (aio/contextvars.hpp).
struct ThreadState {
  EventLoop* running_loop = nullptr;
  FutureBase* current_task = nullptr;
  // null: the current task's context, a loop callback's empty one, or (outside a running loop)
  // the thread's own.
  ContextState* context = nullptr;
  ContextState* thread_context = nullptr;  // the thread's own, once made
  // An executor's worker handing a job's result back (call_soon_threadsafe): a call the loop
  // expects, which the deadlock report need not wait for beyond the job.
  bool delivering_result = false;
};
inline thread_local ThreadState this_thread;

/// Runs a loop callback in a context of its own: a callback that was scheduled where no
/// variable was set starts in an empty context, and what it sets stays in that one (asyncio
/// runs every callback in a copy), never in the thread's or the loop caller's.
class CallbackContextScope {
 public:
  CallbackContextScope() noexcept : previous_(std::exchange(this_thread.context, nullptr)) {}
  ~CallbackContextScope() {
    if (this_thread.context) [[unlikely]]
      leave_callback_context();
    this_thread.context = previous_;
  }
  CallbackContextScope(const CallbackContextScope&) = delete;
  CallbackContextScope& operator=(const CallbackContextScope&) = delete;

 private:
  static void leave_callback_context() noexcept;  // frees what the callback set
  ContextState* previous_;
};

/// "<Task pending name='Task-1' coro=<main()>>".
std::string task_repr(const FutureBase& task, const char* function);

}  // namespace aio::detail
