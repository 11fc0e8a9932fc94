// aio/detail/task_core.hpp — what makes a coroutine a Task, and which task is running.
//
// A Task's state is a FutureBase (aio/detail/future_base.hpp) whose value a coroutine
// produces: the task half of that class holds the step, the cancellation protocol and the
// name. TaskCore names that role.
#pragma once

#include <string>

#include "aio/detail/future_base.hpp"

namespace aio::detail {

using TaskCore = FutureBase;
struct ContextState;

/// Per-thread scheduling state: the running loop, the task it is stepping, and the contextvars
/// context code runs in (aio/contextvars.hpp).
struct ThreadState {
  EventLoop* running_loop = nullptr;
  TaskCore* current_task = nullptr;
  ContextState* context = nullptr;  // null: the current task's empty context, or the thread's
  ContextState* thread_context = nullptr;  // the thread's own, once made
};
inline thread_local ThreadState this_thread;

/// "<Task pending name='Task-1' coro=<main()>>".
std::string task_repr(const TaskCore& task, const char* function);

}  // namespace aio::detail
