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
#include "aio/sleep.hpp"
#include "core/loop_internals.hpp"

namespace aio {

namespace detail {

std::string describe_awaited(const FutureBase& f) {
  if (f.is_task()) return "Task(name=" + quoted_repr(f.name()) + ")";
  char text[48];
  std::snprintf(text, sizeof text, "Future(id=%#jx)",
                static_cast<std::uintmax_t>(reinterpret_cast<std::uintptr_t>(&f)));
  return text;
}

std::string describe_sleep(const FutureBase& task, const TimerNode& timer) {
  if (!timer.in_heap()) return "sleep()";
  EventLoop& loop = task.loop();
  const double when = LoopInternals::timers(loop).when_of(timer);
  char text[96];
  std::snprintf(text, sizeof text, "sleep() until t=%.3f, in %.3f s", when, when - loop.time());
  return text;
}

namespace {

/// The task's Coros, innermost first.
std::vector<FrameCallGraphEntry> call_stack_of(const FutureBase& future) {
  std::vector<FrameCallGraphEntry> stack;
  if (!future.is_task()) return stack;
  for (const CoroFrame* f = &future.frame(); f; f = f->awaiting) {
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
  graph.future.id = reinterpret_cast<std::uintptr_t>(&future);
  if (future.is_task()) {
    graph.future.task.emplace(const_cast<FutureBase*>(&future));
    graph.future.name = future.name();
    if (const CancelHook* hook = future.awaited_hook()) graph.future.awaiting = hook->describe();
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

void render(const FutureCallGraph& graph, int level, bool awaiting, std::string& out) {
  const std::string indent(static_cast<std::size_t>(level) * 4, ' ');
  auto line = [&](const std::string& text) {
    if (!out.empty()) out += '\n';
    out += indent;
    out += text;
  };
  char id[2 + 2 * sizeof(std::uintptr_t) + 1];
  std::snprintf(id, sizeof id, "%#jx", static_cast<std::uintmax_t>(graph.future.id));
  if (graph.future.is_task()) {
    line("* Task(name=" + quoted_repr(graph.future.name) + ", id=" + id + ")");
  } else {
    line(std::string("* Future(id=") + id + ")");
  }
  if (awaiting && !graph.future.awaiting.empty()) {
    line("  + Awaiting: " + graph.future.awaiting);
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
    for (const FutureCallGraph& waiter : graph.awaited_by) {
      render(waiter, level + 1, awaiting, out);
    }
  }
}

}  // namespace

FutureCallGraph capture_future_graph(const FutureBase& future, int depth, std::optional<int> limit,
                                     CallLine here) {
  if (&future == this_thread.current_task) {
    return *capture_current_graph(depth, limit, here);
  }
  std::vector<const FutureBase*> path;
  return graph_of(future, limit, path);
}

std::optional<FutureCallGraph> capture_current_graph(int depth, std::optional<int> limit,
                                                     CallLine here) {
  running_loop();  // RuntimeError when no loop runs
  const FutureBase* task = this_thread.current_task;
  if (!task) return std::nullopt;
  std::vector<const FutureBase*> path;
  FutureCallGraph graph = graph_of(*task, std::nullopt, path);
  // The innermost Coro is running: it is at the capture's line, not at its last co_await, and
  // it waits on nothing.
  graph.future.awaiting.clear();
  if (!graph.call_stack.empty()) graph.call_stack.front().line = here.line;
  const std::size_t skip = static_cast<std::size_t>(std::max(depth, 1) - 1);
  graph.call_stack.erase(graph.call_stack.begin(),
                         graph.call_stack.begin() +
                             static_cast<std::ptrdiff_t>(std::min(skip, graph.call_stack.size())));
  apply_limit(graph.call_stack, limit);
  std::vector<FutureCallGraph*> pending;
  for (FutureCallGraph& waiter : graph.awaited_by) pending.push_back(&waiter);
  while (!pending.empty()) {
    FutureCallGraph* g = pending.back();
    pending.pop_back();
    apply_limit(g->call_stack, limit);
    for (FutureCallGraph& w : g->awaited_by) pending.push_back(&w);
  }
  return graph;
}

std::string render_call_graph(const FutureCallGraph& graph, bool awaiting) {
  std::string out;
  render(graph, 0, awaiting, out);
  return out;
}

}  // namespace detail

void print_call_graph(const FutureCallGraph& graph, std::FILE* file) {
  const std::string text = format_call_graph(graph);
  std::fprintf(file, "%s\n", text.c_str());
}

}  // namespace aio
