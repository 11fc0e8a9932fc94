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

/// Per-thread scheduling state: the running loop and the task it is stepping.
struct ThreadState {
  EventLoop* running_loop = nullptr;
  TaskCore* current_task = nullptr;
};
inline thread_local ThreadState this_thread;

/// "<Task pending name='Task-1' coro=<main()>>".
std::string task_repr(const TaskCore& task, const char* function);

}  // namespace aio::detail
