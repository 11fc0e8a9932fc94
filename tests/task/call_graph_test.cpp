// Call graphs (aio/graph.hpp), as asyncio 3.14's capture_call_graph / format_call_graph /
// print_call_graph show them (CPython's test_asyncio/test_graph.py): the chain of Coros a task
// is in, each at the line of its co_await, and who awaits each future: tasks, gather.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::run_virtual;
using aio::testing::yield0;

// Where each coroutine below waits (set just before its co_await).
struct GraphLines {
  std::uint32_t leaf = 0;
  std::uint32_t middle = 0;
  std::uint32_t top = 0;
  std::uint32_t captured = 0;
};

aio::Coro<int> graph_leaf(aio::Future<int>& gate, GraphLines& lines) {
  lines.leaf = __LINE__ + 1;
  int v = co_await gate;
  co_return v;
}

aio::Coro<int> graph_middle(aio::Future<int>& gate, GraphLines& lines) {
  lines.middle = __LINE__ + 1;
  int v = co_await graph_leaf(gate, lines);
  co_return v + 1;
}

aio::Coro<int> graph_top(aio::Future<int>& gate, GraphLines& lines) {
  lines.top = __LINE__ + 1;
  int v = co_await graph_middle(gate, lines);
  co_return v + 1;
}

std::vector<std::string> functions_of(const aio::FutureCallGraph& g) {
  std::vector<std::string> names;
  for (const aio::FrameCallGraphEntry& f : g.call_stack) names.push_back(f.function);
  return names;
}

std::string hex_id(const aio::FutureCallGraph& g) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#jx", static_cast<std::uintmax_t>(g.id));
  return buf;
}

TEST(CallGraph, ATaskShowsItsCorosInnermostFirstEachAtItsCoAwait) {
  auto body = []() -> aio::Coro<void> {
    GraphLines lines;
    aio::Future<int> gate = aio::get_running_loop().create_future<int>();
    aio::Task<int> task = aio::create_task(graph_top(gate, lines), "worker");
    co_await yield0();
    aio::FutureCallGraph g = aio::capture_call_graph(task);
    EXPECT_TRUE(g.task.has_value());
    EXPECT_EQ(g.name, "worker");
    EXPECT_EQ(functions_of(g),
              (std::vector<std::string>{"graph_leaf", "graph_middle", "graph_top"}));
    EXPECT_EQ(g.call_stack.at(0).line, lines.leaf);
    EXPECT_EQ(g.call_stack.at(1).line, lines.middle);
    EXPECT_EQ(g.call_stack.at(2).line, lines.top);
    EXPECT_EQ(g.call_stack.at(0).file, __FILE__);
    EXPECT_TRUE(g.awaited_by.empty());  // nobody awaits the task yet
    gate.set_result(1);
    EXPECT_EQ(co_await task, 3);
    // Done: the chain is gone (the frames were destroyed with the task's coroutine).
  };
  run_virtual(body);
}

aio::Coro<void> graph_capture_here(std::optional<aio::FutureCallGraph>& out, GraphLines& lines) {
  co_await yield0();
  lines.captured = __LINE__ + 1;
  out = aio::capture_call_graph();
}

TEST(CallGraph, TheCurrentTaskIsShownWhereTheCaptureIsCalled) {
  auto body = []() -> aio::Coro<void> {
    GraphLines lines;
    std::optional<aio::FutureCallGraph> g;
    co_await graph_capture_here(g, lines);
    EXPECT_TRUE(g.has_value());
    if (!g) co_return;
    EXPECT_EQ(g->call_stack.size(), 2u);
    EXPECT_EQ(g->call_stack.at(0).function, "graph_capture_here");
    EXPECT_EQ(g->call_stack.at(0).line, lines.captured);
  };
  run_virtual(body);
}

TEST(CallGraph, OutsideATaskThereIsNoneAndOutsideALoopItIsAnError) {
  EXPECT_THROW(aio::capture_call_graph(), aio::RuntimeError);
  auto body = []() -> aio::Coro<void> {
    std::optional<std::optional<aio::FutureCallGraph>> in_callback;
    std::string formatted = "unset";
    aio::get_running_loop().call_soon([&] {
      in_callback = aio::capture_call_graph();
      formatted = aio::format_call_graph();
    });
    co_await yield0();
    EXPECT_TRUE(in_callback.has_value());
    EXPECT_FALSE(in_callback && in_callback->has_value());
    EXPECT_EQ(formatted, "");  // asyncio: an empty string when no task runs
  };
  run_virtual(body);
}

aio::Coro<int> graph_await_task(aio::Task<int>& task, GraphLines& lines) {
  lines.top = __LINE__ + 1;
  int v = co_await task;
  co_return v;
}

TEST(CallGraph, ATaskIsAwaitedByTheTasksWaitingOnIt) {
  auto body = []() -> aio::Coro<void> {
    GraphLines lines, waiter_lines;
    aio::Future<int> gate = aio::get_running_loop().create_future<int>();
    aio::Task<int> worker = aio::create_task(graph_leaf(gate, lines), "worker");
    aio::Task<int> waiter = aio::create_task(graph_await_task(worker, waiter_lines), "waiter");
    co_await yield0();
    aio::FutureCallGraph g = aio::capture_call_graph(worker);
    EXPECT_EQ(g.awaited_by.size(), 1u);
    EXPECT_EQ(g.awaited_by.at(0).name, "waiter");
    EXPECT_EQ(functions_of(g.awaited_by.at(0)), (std::vector<std::string>{"graph_await_task"}));
    EXPECT_EQ(g.awaited_by.at(0).call_stack.at(0).line, waiter_lines.top);
    // The layout, line for line as asyncio 3.14's.
    const std::string file = "'" + std::string(__FILE__) + "'";
    const std::vector<std::string> expected_lines = {
        "* Task(name='worker', id=" + hex_id(g) + ")",
        "  + Call stack:",
        "  |   File " + file + ", line " + std::to_string(lines.leaf) + ", in async graph_leaf()",
        "  + Awaited by:",
        "    * Task(name='waiter', id=" + hex_id(g.awaited_by.at(0)) + ")",
        "      + Call stack:",
        "      |   File " + file + ", line " + std::to_string(waiter_lines.top) +
            ", in async graph_await_task()",
    };
    std::string expected;
    for (const std::string& line : expected_lines)
      expected += (expected.empty() ? "" : "\n") + line;
    EXPECT_EQ(aio::format_call_graph(g), expected);
    gate.set_result(5);
    EXPECT_EQ(co_await waiter, 5);
  };
  run_virtual(body);
}

TEST(CallGraph, AFutureIsAwaitedByEveryTaskWaitingOnIt) {
  auto body = []() -> aio::Coro<void> {
    GraphLines a, b;
    aio::Future<int> gate = aio::get_running_loop().create_future<int>();
    aio::Task<int> first = aio::create_task(graph_leaf(gate, a), "first");
    aio::Task<int> second = aio::create_task(graph_leaf(gate, b), "second");
    co_await yield0();
    aio::FutureCallGraph g = aio::capture_call_graph(gate);
    EXPECT_FALSE(g.task.has_value());
    EXPECT_TRUE(g.call_stack.empty());
    EXPECT_EQ(g.awaited_by.size(), 2u);
    EXPECT_EQ(g.awaited_by.at(0).name, "first");
    EXPECT_EQ(g.awaited_by.at(1).name, "second");
    EXPECT_EQ(aio::format_call_graph(g).substr(0, 12), "* Future(id=");
    gate.set_result(1);
    co_await first;
    co_await second;
  };
  run_virtual(body);
}

aio::Coro<void> graph_gather_two(aio::Task<int>& x, aio::Task<int>& y, GraphLines& lines) {
  lines.top = __LINE__ + 1;
  co_await aio::gather(x, y);
}

TEST(CallGraph, AGatheredTaskIsAwaitedByTheGatherAndItsAwaiter) {
  auto body = []() -> aio::Coro<void> {
    GraphLines lx, ly, lg;
    aio::Future<int> gate = aio::get_running_loop().create_future<int>();
    aio::Task<int> x = aio::create_task(graph_leaf(gate, lx), "x");
    aio::Task<int> y = aio::create_task(graph_leaf(gate, ly), "y");
    aio::Task<void> parent = aio::create_task(graph_gather_two(x, y, lg), "parent");
    co_await yield0();
    aio::FutureCallGraph g = aio::capture_call_graph(x);
    EXPECT_EQ(g.awaited_by.size(), 1u);
    const aio::FutureCallGraph& gathering = g.awaited_by.at(0);
    EXPECT_FALSE(gathering.task.has_value());  // gather's future
    EXPECT_EQ(gathering.awaited_by.size(), 1u);
    EXPECT_EQ(gathering.awaited_by.at(0).name, "parent");
    EXPECT_EQ(gathering.awaited_by.at(0).call_stack.at(0).line, lg.top);
    gate.set_result(2);
    co_await parent;
  };
  run_virtual(body);
}

aio::Coro<int> graph_await_other(std::optional<aio::Task<int>>& other) {
  co_await yield0();
  int v = co_await *other;
  co_return v;
}

TEST(CallGraph, TasksAwaitingEachOtherEndTheGraphInsteadOfLoopingForEver) {
  // Two tasks awaiting each other never end, and cancelling one would go round the cycle (as in
  // asyncio): the loop is closed with them pending instead, which abandons them.
  aio::EventLoop loop(aio::testing::virtual_time);
  std::optional<aio::Task<int>> a_ref, b_ref;
  auto body = [&]() -> aio::Coro<void> {
    a_ref = aio::create_task(graph_await_other(b_ref), "a");
    b_ref = aio::create_task(graph_await_other(a_ref), "b");
    co_await yield0();
    co_await yield0();
    aio::FutureCallGraph g = aio::capture_call_graph(*a_ref);
    EXPECT_EQ(g.awaited_by.size(), 1u);
    EXPECT_EQ(g.awaited_by.at(0).name, "b");
    EXPECT_TRUE(g.awaited_by.at(0).awaited_by.empty());  // a again: the cycle stops there
  };
  loop.run_until_complete(body());
  loop.close();
}

TEST(CallGraph, ALimitKeepsTheInnermostOrTheOutermostFrames) {
  auto body = []() -> aio::Coro<void> {
    GraphLines lines;
    aio::Future<int> gate = aio::get_running_loop().create_future<int>();
    aio::Task<int> task = aio::create_task(graph_top(gate, lines));
    co_await yield0();
    EXPECT_EQ(functions_of(aio::capture_call_graph(task, 1)),
              (std::vector<std::string>{"graph_leaf"}));
    EXPECT_EQ(functions_of(aio::capture_call_graph(task, -2)),
              (std::vector<std::string>{"graph_middle", "graph_top"}));
    EXPECT_TRUE(aio::capture_call_graph(task, 0).call_stack.empty());
    gate.set_result(0);
    co_await task;
  };
  run_virtual(body);
}

}  // namespace
