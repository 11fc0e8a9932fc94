// Call graphs (aio/graph.hpp), as asyncio 3.14's capture_call_graph / format_call_graph /
// print_call_graph show them (CPython's test_asyncio/test_graph.py): the chain of Coros a task
// is in, each at the line of its co_await, and who awaits each future: tasks, gather, TaskGroup,
// shield, wait, wait_for, as_completed; and what a suspended task waits on.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "aio/as_completed.hpp"
#include "aio/graph.hpp"
#include "aio/locks.hpp"
#include "aio/queues.hpp"
#include "aio/shield.hpp"
#include "aio/task_group.hpp"
#include "aio/wait.hpp"
#include "aio/wait_for.hpp"
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
  std::snprintf(buf, sizeof buf, "%#jx", static_cast<std::uintmax_t>(g.future.id));
  return buf;
}

TEST(CallGraph, ATaskShowsItsCorosInnermostFirstEachAtItsCoAwait) {
  auto body = []() -> aio::Coro<void> {
    GraphLines lines;
    aio::Future<int> gate = aio::get_running_loop().create_future<int>();
    aio::Task<int> task = aio::create_task(graph_top(gate, lines), "worker");
    co_await yield0();
    aio::FutureCallGraph g = aio::capture_call_graph(task);
    EXPECT_TRUE(g.future.is_task());
    EXPECT_EQ(g.future.name, "worker");
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
    EXPECT_EQ(g.awaited_by.at(0).future.name, "waiter");
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
    EXPECT_FALSE(g.future.is_task());
    EXPECT_TRUE(g.call_stack.empty());
    EXPECT_EQ(g.awaited_by.size(), 2u);
    EXPECT_EQ(g.awaited_by.at(0).future.name, "first");
    EXPECT_EQ(g.awaited_by.at(1).future.name, "second");
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
    EXPECT_FALSE(gathering.future.is_task());  // gather's future
    EXPECT_EQ(gathering.awaited_by.size(), 1u);
    EXPECT_EQ(gathering.awaited_by.at(0).future.name, "parent");
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
    EXPECT_EQ(g.awaited_by.at(0).future.name, "b");
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
    EXPECT_EQ(functions_of(aio::capture_call_graph(task, 1, 1)),
              (std::vector<std::string>{"graph_leaf"}));
    EXPECT_EQ(functions_of(aio::capture_call_graph(task, 1, -2)),
              (std::vector<std::string>{"graph_middle", "graph_top"}));
    EXPECT_TRUE(aio::capture_call_graph(task, 1, 0).call_stack.empty());
    gate.set_result(0);
    co_await task;
  };
  run_virtual(body);
}

// The names of the tasks that await `g` directly.
std::vector<std::string> awaiters_of(const aio::FutureCallGraph& g) {
  std::vector<std::string> names;
  for (const aio::FutureCallGraph& w : g.awaited_by) {
    names.push_back(w.future.is_task() ? w.future.name : "<future>");
  }
  return names;
}

TEST(CallGraph, ATaskGroupsTasksAreAwaitedByItsParentTask) {
  auto body = []() -> aio::Coro<void> {
    GraphLines lines;
    aio::Future<int> gate = aio::get_running_loop().create_future<int>();
    std::optional<aio::Task<int>> child;
    auto group_body = [&](aio::TaskGroup& tg) -> aio::Coro<void> {
      child = tg.create_task(graph_leaf(gate, lines), "child");
      co_await yield0();
      aio::FutureCallGraph g = aio::capture_call_graph(*child);
      EXPECT_EQ(awaiters_of(g), (std::vector<std::string>{"parent"}));
      gate.set_result(1);
    };
    auto parent = [&]() -> aio::Coro<void> { co_await aio::task_group(group_body); };
    aio::Task<void> p = aio::create_task(parent(), "parent");
    co_await p;
    // Done: the child no longer counts the parent among its awaiters.
    EXPECT_TRUE(aio::capture_call_graph(*child).awaited_by.empty());
  };
  run_virtual(body);
}

TEST(CallGraph, ShieldWaitWaitForAndAsCompletedShowTheirCaller) {
  auto body = []() -> aio::Coro<void> {
    GraphLines a, b, c, d;
    aio::Future<int> gate = aio::get_running_loop().create_future<int>();
    aio::Task<int> shielded = aio::create_task(graph_leaf(gate, a), "shielded");
    aio::Task<int> waited = aio::create_task(graph_leaf(gate, b), "waited");
    aio::Task<int> timed = aio::create_task(graph_leaf(gate, c), "timed");
    aio::Task<int> completed = aio::create_task(graph_leaf(gate, d), "completed");
    auto shield_caller = [&]() -> aio::Coro<int> { co_return co_await aio::shield(shielded); };
    auto wait_caller = [&]() -> aio::Coro<void> {
      std::vector<aio::Task<int>> inputs{waited};  // GCC 12: no braced list in a co_await
      co_await aio::wait(inputs);
    };
    auto wait_for_caller = [&]() -> aio::Coro<int> { co_return co_await aio::wait_for(timed, 5); };
    auto as_completed_caller = [&]() -> aio::Coro<void> {
      std::vector<aio::Task<int>> inputs{completed};
      for (auto next : aio::as_completed(inputs)) co_await next;
    };
    aio::Task<int> s = aio::create_task(shield_caller(), "shield_caller");
    aio::Task<void> w = aio::create_task(wait_caller(), "wait_caller");
    aio::Task<int> t = aio::create_task(wait_for_caller(), "wait_for_caller");
    aio::Task<void> ac = aio::create_task(as_completed_caller(), "as_completed_caller");
    co_await yield0();
    co_await yield0();
    EXPECT_EQ(awaiters_of(aio::capture_call_graph(shielded)),
              (std::vector<std::string>{"shield_caller"}));
    // wait(): the task waits on wait's own future, which the inputs lead to.
    aio::FutureCallGraph gw = aio::capture_call_graph(waited);
    EXPECT_EQ(awaiters_of(gw), (std::vector<std::string>{"<future>"}));
    EXPECT_EQ(awaiters_of(gw.awaited_by.at(0)), (std::vector<std::string>{"wait_caller"}));
    EXPECT_EQ(awaiters_of(aio::capture_call_graph(timed)),
              (std::vector<std::string>{"wait_for_caller"}));
    EXPECT_EQ(awaiters_of(aio::capture_call_graph(completed)),
              (std::vector<std::string>{"as_completed_caller"}));
    gate.set_result(3);
    EXPECT_EQ(co_await s, 3);
    co_await w;
    EXPECT_EQ(co_await t, 3);
    co_await ac;
    EXPECT_TRUE(aio::capture_call_graph(shielded).awaited_by.empty());
    EXPECT_TRUE(aio::capture_call_graph(waited).awaited_by.empty());
    EXPECT_TRUE(aio::capture_call_graph(completed).awaited_by.empty());
  };
  run_virtual(body);
}

TEST(CallGraph, ASuspendedTaskNamesWhatItWaitsOn) {
  auto body = []() -> aio::Coro<void> {
    aio::Lock lock;
    aio::Event event;
    aio::Queue<int> queue(1);
    aio::Future<int> gate = aio::get_running_loop().create_future<int>();
    co_await lock.acquire();
    auto on_lock = [&]() -> aio::Coro<void> { co_await lock.acquire(); };
    auto on_event = [&]() -> aio::Coro<void> { co_await event.wait(); };
    auto on_queue = [&]() -> aio::Coro<void> { co_await queue.get(); };
    auto on_sleep = [&]() -> aio::Coro<void> { co_await aio::sleep(2.5); };
    auto on_future = [&]() -> aio::Coro<void> { co_await gate; };
    aio::Task<void> a = aio::create_task(on_lock(), "a");
    aio::Task<void> b = aio::create_task(on_event(), "b");
    aio::Task<void> c = aio::create_task(on_queue(), "c");
    aio::Task<void> d = aio::create_task(on_sleep(), "d");
    aio::Task<void> e = aio::create_task(on_future(), "e");
    aio::Task<void> f = aio::create_task(on_future(), "f");
    co_await yield0();
    EXPECT_EQ(aio::capture_call_graph(a).future.awaiting, "Lock.acquire()");
    EXPECT_EQ(aio::capture_call_graph(b).future.awaiting, "Event.wait()");
    EXPECT_EQ(aio::capture_call_graph(c).future.awaiting, "Queue.get()");
    char sleeping[64];
    std::snprintf(sleeping, sizeof sleeping, "sleep() until t=%.3f, in 2.500 s",
                  aio::get_running_loop().time() + 2.5);
    EXPECT_EQ(aio::capture_call_graph(d).future.awaiting, sleeping);
    char future[48];
    std::snprintf(future, sizeof future, "Future(id=%#jx)",
                  static_cast<std::uintmax_t>(aio::capture_call_graph(gate).future.id));
    EXPECT_EQ(aio::capture_call_graph(e).future.awaiting, future);
    // The current task waits on nothing: it runs.
    EXPECT_EQ(aio::capture_call_graph()->future.awaiting, "");
    // format_call_graph keeps asyncio's layout; aio's reports add the line.
    EXPECT_EQ(aio::format_call_graph(c).find("Awaiting"), std::string::npos);
    EXPECT_NE(aio::detail::render_call_graph(aio::capture_call_graph(c), true)
                  .find("\n  + Awaiting: Queue.get()\n"),
              std::string::npos);
    lock.release();
    event.set();
    queue.put_nowait(1);
    gate.set_result(1);
    co_await aio::gather(a, b, c, d, e, f);
  };
  run_virtual(body);
}

aio::Coro<std::optional<aio::FutureCallGraph>> graph_capture_at_depth(int depth) {
  co_return aio::capture_call_graph(depth);
}

aio::Coro<std::optional<aio::FutureCallGraph>> graph_depth_outer(int depth) {
  auto g = co_await graph_capture_at_depth(depth);
  co_return g;
}

TEST(CallGraph, DepthLeavesOutTheInnermostCallers) {
  auto body = []() -> aio::Coro<void> {
    auto g1 = co_await graph_depth_outer(1);
    auto g2 = co_await graph_depth_outer(2);
    auto g9 = co_await graph_depth_outer(9);
    EXPECT_EQ(functions_of(g1.value()).at(0), "graph_capture_at_depth");
    EXPECT_EQ(functions_of(g2.value()).at(0), "graph_depth_outer");
    EXPECT_TRUE(g9.value().call_stack.empty());
  };
  run_virtual(body);
}

TEST(CallGraph, FutureAddToAwaitedByRecordsAWaiterUntilDiscarded) {
  auto body = []() -> aio::Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> f = loop.create_future<int>();
    aio::Future<int> w = loop.create_future<int>();
    aio::future_add_to_awaited_by(f, w);
    EXPECT_EQ(awaiters_of(aio::capture_call_graph(f)), (std::vector<std::string>{"<future>"}));
    aio::future_discard_from_awaited_by(f, w);
    EXPECT_TRUE(aio::capture_call_graph(f).awaited_by.empty());
    aio::future_discard_from_awaited_by(f, w);  // twice: nothing
    // A waiter recorded and never discarded is let go with the future.
    {
      aio::Future<int> g = loop.create_future<int>();
      aio::future_add_to_awaited_by(g, w);
    }
    co_return;
  };
  run_virtual(body);
}

TEST(CallGraph, PrintCallGraphWritesTheFormattedGraphAndANewline) {
  auto body = []() -> aio::Coro<void> {
    aio::Future<int> f = aio::get_running_loop().create_future<int>();
    std::FILE* out = std::tmpfile();
    aio::print_call_graph(f, out);
    std::rewind(out);
    char text[128] = {};
    const std::size_t n = std::fread(text, 1, sizeof text - 1, out);
    std::fclose(out);
    EXPECT_EQ(std::string(text, n), aio::format_call_graph(f) + "\n");
    co_return;
  };
  run_virtual(body);
}

}  // namespace
