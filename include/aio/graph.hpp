// aio/graph.hpp — asyncio 3.14's call graph introspection: what a task is waiting on, and who
// waits on it. capture_call_graph, format_call_graph, print_call_graph, FutureCallGraph,
// FrameCallGraphEntry, future_add_to_awaited_by, future_discard_from_awaited_by.
//
// A task's call stack is its chain of Coros, innermost first: each with its function, its file
// and the line of the co_await it is suspended at (every co_await in a Coro records its line as
// it happens; for the task that calls capture_call_graph, the innermost line is the call's). A
// future is awaited by the tasks waiting on it, the gathers it belongs to (a gather's future,
// in turn, by whoever awaits the gather), a TaskGroup's parent task, the caller of shield(),
// wait() and as_completed(). format_call_graph lays the graph out line for line as asyncio 3.14
// does:
//   * Task(name='worker', id=0x...)
//     + Call stack:
//     |   File '/src/app.cpp', line 12, in async fetch()
//     |   File '/src/app.cpp', line 20, in async worker()
//     + Awaited by:
//         * Task(name='main', id=0x...)
//           ...
// Beyond asyncio: a suspended task's graph names what it waits on (`future.awaiting`:
// "Queue.get()", "Lock.acquire()", "sleep() until t=12.300, in 2.100 s", "Task(name='db')"),
// which aio's own reports print (the stall detector, the deadlock report, the task dump, aio-ps);
// format_call_graph keeps asyncio's layout. Differences C++ makes: `future` describes the future
// (a task's handle, its name and id) rather than being it, and `depth` counts Coros, not Python
// frames.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "aio/future.hpp"
#include "aio/loop.hpp"
#include "aio/task.hpp"

namespace aio {

/// One coroutine in a call stack.
struct FrameCallGraphEntry {
  std::string function;   ///< the coroutine function's name ("fetch")
  std::string file;       ///< its source file
  std::uint32_t line{0};  ///< the co_await it is suspended at
};

/// The future a graph is of.
struct CallGraphFuture {
  std::optional<TaskRef> task;  ///< the task, when it is one
  std::uintptr_t id = 0;        ///< its address (asyncio prints id())
  std::string name;             ///< a task's name ("" for a future)
  std::string awaiting;         ///< what a suspended task waits on; "" when unknown or running
  bool is_task() const noexcept { return task.has_value(); }
};

/// A future or task, its call stack (innermost first; empty for a plain future) and the graphs
/// of those that await it.
struct FutureCallGraph {
  CallGraphFuture future;
  std::vector<FrameCallGraphEntry> call_stack;
  std::vector<FutureCallGraph> awaited_by;
};

namespace detail {
/// The line a capture was called from (the innermost frame of the current task is there).
struct CallLine {
  CallLine(std::uint32_t l = __builtin_LINE()) noexcept : line(l) {}  // NOLINT
  std::uint32_t line;
};
FutureCallGraph capture_future_graph(const FutureBase& future, int depth, std::optional<int> limit,
                                     CallLine here);
std::optional<FutureCallGraph> capture_current_graph(int depth, std::optional<int> limit,
                                                     CallLine here);
/// format_call_graph's layout; `awaiting`: also a "+ Awaiting:" line under each task that is
/// suspended on something that names itself (aio's own reports).
std::string render_call_graph(const FutureCallGraph& graph, bool awaiting);
inline FutureBase& graph_node(const TaskRef& task) {
  return *task.core();
}
template <class T>
FutureBase& graph_node(const Future<T>& future) {
  return *future.core();
}
}  // namespace detail

/// The current task's graph; nullopt when no task runs (RuntimeError when no loop runs).
/// `depth`: the innermost depth-1 Coros of the calling chain are left out (1: the caller is the
/// innermost frame). `limit`: at most |limit| frames per call stack, those closest to the
/// awaiting point when positive, the outermost when negative; 0 leaves the call stacks out.
inline std::optional<FutureCallGraph> capture_call_graph(int depth = 1,
                                                         std::optional<int> limit = std::nullopt,
                                                         detail::CallLine here = {}) {
  return detail::capture_current_graph(depth, limit, here);
}
/// The graph of `task` (a Task<T> converts); `depth` applies when it is the current task.
inline FutureCallGraph capture_call_graph(const TaskRef& task, int depth = 1,
                                          std::optional<int> limit = std::nullopt,
                                          detail::CallLine here = {}) {
  return detail::capture_future_graph(*task.core(), depth, limit, here);
}
/// The graph of a plain future.
template <class T>
FutureCallGraph capture_call_graph(const Future<T>& future, int depth = 1,
                                   std::optional<int> limit = std::nullopt,
                                   detail::CallLine here = {}) {
  return detail::capture_future_graph(*future.base(), depth, limit, here);
}

/// The graph as asyncio 3.14 prints it (lines joined by '\n', no final newline).
inline std::string format_call_graph(const FutureCallGraph& graph) {
  return detail::render_call_graph(graph, false);
}
/// The current task's, formatted; "" when no task runs.
inline std::string format_call_graph(int depth = 1, std::optional<int> limit = std::nullopt,
                                     detail::CallLine here = {}) {
  std::optional<FutureCallGraph> graph = detail::capture_current_graph(depth, limit, here);
  return graph ? format_call_graph(*graph) : std::string();
}
inline std::string format_call_graph(const TaskRef& task, int depth = 1,
                                     std::optional<int> limit = std::nullopt,
                                     detail::CallLine here = {}) {
  return format_call_graph(capture_call_graph(task, depth, limit, here));
}
template <class T>
std::string format_call_graph(const Future<T>& future, int depth = 1,
                              std::optional<int> limit = std::nullopt) {
  return format_call_graph(capture_call_graph(future, depth, limit));
}

/// format_call_graph() and a newline, to `file` (stdout by default).
void print_call_graph(const FutureCallGraph& graph, std::FILE* file = stdout);
/// The current task's; nothing when no task runs.
inline void print_call_graph(std::FILE* file = stdout, int depth = 1,
                             std::optional<int> limit = std::nullopt, detail::CallLine here = {}) {
  if (std::optional<FutureCallGraph> graph = detail::capture_current_graph(depth, limit, here)) {
    print_call_graph(*graph, file);
  }
}
inline void print_call_graph(const TaskRef& task, std::FILE* file = stdout, int depth = 1,
                             std::optional<int> limit = std::nullopt, detail::CallLine here = {}) {
  print_call_graph(capture_call_graph(task, depth, limit, here), file);
}
template <class T>
void print_call_graph(const Future<T>& future, std::FILE* file = stdout, int depth = 1,
                      std::optional<int> limit = std::nullopt) {
  print_call_graph(capture_call_graph(future, depth, limit), file);
}

/// Every pending task of `loop`, each with what it waits on, its call stack and who awaits it
/// (aio's report layout: format_call_graph's, with "+ Awaiting:" lines), after a header line.
std::string format_all_tasks(EventLoop& loop);
/// Go's SIGQUIT dump, without the exit: when `signal` arrives, the current loop prints
/// format_all_tasks() to stderr and goes on (a loop handler: it runs at the loop's next turn;
/// a step that never ends is the stall detector's to report). AIO_DUMP_SIGNAL=QUIT makes run()
/// and Runner install it.
void install_task_dump(int signal);

/// asyncio 3.14's future_add_to_awaited_by(fut, waiter): records that `waiter` (a task or a
/// future) waits on `fut` where no callback says so, for the call graphs; the library does it
/// for TaskGroup, shield(), wait() and as_completed(). future_discard_from_awaited_by undoes it.
template <class F, class W>
void future_add_to_awaited_by(const F& fut, const W& waiter) {
  detail::graph_node(fut).add_awaited_by(detail::graph_node(waiter));
}
template <class F, class W>
void future_discard_from_awaited_by(const F& fut, const W& waiter) {
  detail::graph_node(fut).discard_awaited_by(detail::graph_node(waiter));
}

}  // namespace aio
