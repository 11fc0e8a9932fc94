// aio/graph.hpp — asyncio 3.14's call graph introspection: what a task is waiting on, and who
// waits on it. capture_call_graph, format_call_graph, print_call_graph, FutureCallGraph,
// FrameCallGraphEntry.
//
// A task's call stack is its chain of Coros, innermost first: each with its function, its file
// and the line of the co_await it is suspended at (every co_await in a Coro records its line as
// it happens; for the task that calls capture_call_graph, the innermost line is the call's). A
// future is awaited by the tasks waiting on it and by the gathers it belongs to (a gather's
// future, in turn, by whoever awaits the gather). format_call_graph lays the graph out line
// for line as asyncio 3.14 does:
//   * Task(name='worker', id=0x...)
//     + Call stack:
//     |   File '/src/app.cpp', line 12, in async fetch()
//     |   File '/src/app.cpp', line 20, in async worker()
//     + Awaited by:
//         * Task(name='main', id=0x...)
//           ...
// Differences from asyncio, which C++ makes: the graph names a task (`task`) rather than
// holding any future (a plain future is known by its id), and there is no `depth` (no Python
// frame of the capturing function to skip).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "aio/future.hpp"
#include "aio/task.hpp"

namespace aio {

/// One coroutine in a call stack.
struct FrameCallGraphEntry {
  std::string function;  ///< the coroutine function's name ("fetch")
  std::string file;      ///< its source file
  std::uint32_t line;    ///< the co_await it is suspended at
};

/// A future or task, its call stack (innermost first; empty for a plain future) and the graphs
/// of those that await it.
struct FutureCallGraph {
  std::optional<TaskRef> task;  ///< the task, when it is one
  std::string name;             ///< a task's name ("" for a future)
  std::uintptr_t id = 0;        ///< its address (asyncio prints id())
  std::vector<FrameCallGraphEntry> call_stack;
  std::vector<FutureCallGraph> awaited_by;
};

namespace detail {
/// The line a capture was called from (the innermost frame of the current task is there).
struct CallLine {
  CallLine(std::uint32_t l = __builtin_LINE()) noexcept : line(l) {}  // NOLINT
  std::uint32_t line;
};
FutureCallGraph capture_future_graph(const FutureBase& future, std::optional<int> limit);
std::optional<FutureCallGraph> capture_current_graph(std::optional<int> limit, CallLine here);
}  // namespace detail

/// The current task's graph; nullopt when no task runs (RuntimeError when no loop runs).
/// `limit`: at most |limit| frames per call stack, those closest to the awaiting point when
/// positive, the outermost when negative; 0 leaves the call stacks out.
inline std::optional<FutureCallGraph> capture_call_graph(std::optional<int> limit = std::nullopt,
                                                         detail::CallLine here = {}) {
  return detail::capture_current_graph(limit, here);
}
/// The graph of `task` (a Task<T> converts), or of a plain future.
FutureCallGraph capture_call_graph(const TaskRef& task, std::optional<int> limit = std::nullopt);
template <class T>
FutureCallGraph capture_call_graph(const Future<T>& future,
                                   std::optional<int> limit = std::nullopt) {
  return detail::capture_future_graph(*future.base(), limit);
}

/// The graph as asyncio 3.14 prints it (lines joined by '\n', no final newline).
std::string format_call_graph(const FutureCallGraph& graph);
/// The current task's, formatted; "" when no task runs.
inline std::string format_call_graph(std::optional<int> limit = std::nullopt,
                                     detail::CallLine here = {}) {
  std::optional<FutureCallGraph> graph = detail::capture_current_graph(limit, here);
  return graph ? format_call_graph(*graph) : std::string();
}

/// format_call_graph() and a newline, to `file` (stdout by default); nothing when no task runs.
void print_call_graph(const FutureCallGraph& graph, std::FILE* file = stdout);
inline void print_call_graph(std::optional<int> limit = std::nullopt, std::FILE* file = stdout,
                             detail::CallLine here = {}) {
  if (std::optional<FutureCallGraph> graph = detail::capture_current_graph(limit, here)) {
    print_call_graph(*graph, file);
  }
}

}  // namespace aio
