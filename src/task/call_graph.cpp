// Call graphs (aio/graph.hpp): a task's chain of Coros, from the task down through the Coros
// each awaits inline (CoroFrame::awaiting), and the futures waiting on each future
// (FutureBase::waiters()), followed up to the tasks at the top.
#include "aio/graph.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/thread_state.hpp"
#include "aio/detail/value_repr.hpp"

namespace aio {

namespace detail {

namespace {

/// The task's Coros, innermost first.
std::vector<FrameCallGraphEntry> call_stack_of(const FutureBase& future) {
  std::vector<FrameCallGraphEntry> stack;
  for (const CoroFrame* f = future.is_task() ? future.frame() : nullptr; f; f = f->awaiting) {
    stack.push_back({f->function, f->file, f->line});
  }
  std::reverse(stack.begin(), stack.end());
  return stack;
}

void apply_limit(std::vector<FrameCallGraphEntry>& stack, std::optional<int> limit) {
  if (!limit) return;
  const std::size_t keep = static_cast<std::size_t>(*limit < 0 ? -*limit : *limit);
  if (stack.size() <= keep) return;
  if (*limit > 0) {
    stack.resize(keep);  // the innermost, nearest the point of waiting
  } else {
    stack.erase(stack.begin(), stack.end() - static_cast<std::ptrdiff_t>(keep));
  }
}

/// `path`: the futures between the root and this one, so that a cycle (a task awaiting itself
/// through others) ends instead of recursing for ever.
FutureCallGraph graph_of(const FutureBase& future, std::optional<int> limit,
                         std::vector<const FutureBase*>& path) {
  FutureCallGraph graph;
  graph.id = reinterpret_cast<std::uintptr_t>(&future);
  if (future.is_task()) {
    graph.task.emplace(const_cast<FutureBase*>(&future));
    graph.name = future.name();
    graph.call_stack = call_stack_of(future);
    apply_limit(graph.call_stack, limit);
  }
  path.push_back(&future);
  for (FutureBase* waiter : future.waiters()) {
    if (std::find(path.begin(), path.end(), waiter) != path.end()) continue;
    graph.awaited_by.push_back(graph_of(*waiter, limit, path));
  }
  path.pop_back();
  return graph;
}

void render(const FutureCallGraph& graph, int level, std::string& out) {
  const std::string indent(static_cast<std::size_t>(level) * 4, ' ');
  auto line = [&](const std::string& text) {
    if (!out.empty()) out += '\n';
    out += indent;
    out += text;
  };
  char id[2 + 2 * sizeof(std::uintptr_t) + 1];
  std::snprintf(id, sizeof id, "%#jx", static_cast<std::uintmax_t>(graph.id));
  if (graph.task) {
    line("* Task(name=" + quoted_repr(graph.name) + ", id=" + id + ")");
  } else {
    line(std::string("* Future(id=") + id + ")");
  }
  if (!graph.call_stack.empty()) {
    line("  + Call stack:");
    for (const FrameCallGraphEntry& f : graph.call_stack) {
      line("  |   File " + quoted_repr(f.file) + ", line " + std::to_string(f.line) +
           ", in async " + f.function + "()");
    }
  }
  if (!graph.awaited_by.empty()) {
    line("  + Awaited by:");
    for (const FutureCallGraph& waiter : graph.awaited_by) render(waiter, level + 1, out);
  }
}

}  // namespace

FutureCallGraph capture_future_graph(const FutureBase& future, std::optional<int> limit) {
  std::vector<const FutureBase*> path;
  return graph_of(future, limit, path);
}

std::optional<FutureCallGraph> capture_current_graph(std::optional<int> limit, CallLine here) {
  running_loop();  // RuntimeError when no loop runs
  const FutureBase* task = this_thread.current_task;
  if (!task) return std::nullopt;
  FutureCallGraph graph = capture_future_graph(*task, std::nullopt);
  // The innermost Coro is running: it is at the capture's line, not at its last co_await.
  if (!graph.call_stack.empty()) graph.call_stack.front().line = here.line;
  apply_limit(graph.call_stack, limit);
  for (FutureCallGraph& waiter : graph.awaited_by) {
    std::vector<FutureCallGraph*> pending{&waiter};
    while (!pending.empty()) {
      FutureCallGraph* g = pending.back();
      pending.pop_back();
      apply_limit(g->call_stack, limit);
      for (FutureCallGraph& w : g->awaited_by) pending.push_back(&w);
    }
  }
  return graph;
}

}  // namespace detail

FutureCallGraph capture_call_graph(const TaskRef& task, std::optional<int> limit) {
  return detail::capture_future_graph(*task.core(), limit);
}

std::string format_call_graph(const FutureCallGraph& graph) {
  std::string out;
  detail::render(graph, 0, out);
  return out;
}

void print_call_graph(const FutureCallGraph& graph, std::FILE* file) {
  const std::string text = format_call_graph(graph);
  std::fprintf(file, "%s\n", text.c_str());
}

}  // namespace aio
