// What the loop says about itself: metrics() counting, the deadlock report on virtual time,
// the task dump (format_all_tasks).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "aio/graph.hpp"
#include "aio/locks.hpp"
#include "aio/metrics.hpp"
#include "aio/threads.hpp"
#include "support/virtual_loop.hpp"

namespace {

using aio::testing::run_virtual;
using aio::testing::yield0;

aio::Coro<int> diag_sleeper(double d) {
  co_await aio::sleep(d);
  co_return 1;
}

TEST(Metrics, CountTasksStepsTimersAndTurns) {
  aio::EventLoop loop(aio::testing::virtual_time);
  const aio::LoopMetrics before = loop.metrics();
  EXPECT_EQ(before.tasks_created, 0u);
  EXPECT_EQ(before.iterations, 0u);
  auto body = []() -> aio::Coro<void> {
    aio::EventLoop& l = aio::get_running_loop();
    std::vector<aio::Task<int>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(aio::create_task(diag_sleeper(1)));
    co_await yield0();
    const aio::LoopMetrics during = l.metrics();
    EXPECT_EQ(during.tasks_alive, 11u);  // the ten and this one
    EXPECT_EQ(during.timers_pending, 10u);
    for (auto& t : tasks) co_await t;
    l.call_soon([] {});
    co_await yield0();
  };
  loop.run_until_complete(body());
  const aio::LoopMetrics m = loop.metrics();
  EXPECT_EQ(m.tasks_created, 11u);
  EXPECT_EQ(m.tasks_alive, 0u);
  // Each sleeper: its first step and the one after its timer; the main task: at least its
  // first step, one after each yield and one per awaited task that was not done.
  EXPECT_GE(m.steps, 20u + 3u);
  EXPECT_GE(m.callbacks, 1u);      // the call_soon (and the timers' wake-ups)
  EXPECT_EQ(m.timers_armed, 10u);  // the sleeps (a yield arms none)
  EXPECT_EQ(m.timers_fired, m.timers_armed);
  EXPECT_EQ(m.timers_pending, 0u);
  EXPECT_GE(m.ready_max, 10u);  // the ten woken at once
  EXPECT_GE(m.iterations, 3u);
  EXPECT_EQ(m.ready_now, 0u);
  EXPECT_GE(m.busy_seconds, 0.0);
  EXPECT_EQ(m.stalls, 0u);
  loop.close();
}

aio::Coro<void> diag_wait_forever(aio::Event& e) {
  co_await e.wait();
}

// What run_until_complete(main) raises as RuntimeError ("" when it returns).
std::string diag_error_of(aio::EventLoop& loop, aio::Coro<void> main) {
  try {
    loop.run_until_complete(std::move(main));
  } catch (const aio::RuntimeError& e) {
    return e.what();
  }
  return {};
}

TEST(Deadlock, AMainTaskThatNothingCanWakeRaisesWithEveryPendingTasksGraph) {
  aio::EventLoop loop(aio::testing::virtual_time);
  aio::Event never;
  auto body = [&]() -> aio::Coro<void> {
    aio::Task<void> helper = aio::create_task(diag_wait_forever(never), "helper");
    co_await helper;
  };
  const std::string message = diag_error_of(loop, body());
  EXPECT_EQ(message.rfind("deadlock: ", 0), 0u) << message;
  EXPECT_NE(message.find("2 pending tasks"), std::string::npos) << message;
  EXPECT_NE(message.find("* Task(name='helper'"), std::string::npos) << message;
  EXPECT_NE(message.find("+ Awaiting: Event.wait()"), std::string::npos) << message;
  EXPECT_NE(message.find("in async diag_wait_forever()"), std::string::npos) << message;
  // The loop is usable afterwards: setting the event lets everything finish.
  never.set();
  loop.run_until_complete(aio::sleep(0));
  loop.close();
}

TEST(Deadlock, LocksTakenInOppositeOrderAreReported) {
  aio::EventLoop loop(aio::testing::virtual_time);
  aio::Lock first, second;
  auto take = [](aio::Lock& a, aio::Lock& b) -> aio::Coro<void> {
    co_await a.acquire();
    co_await yield0();
    co_await b.acquire();
  };
  auto body = [&]() -> aio::Coro<void> {
    co_await aio::gather(take(first, second), take(second, first));
  };
  const std::string message = diag_error_of(loop, body());
  EXPECT_EQ(message.rfind("deadlock: ", 0), 0u) << message;
  EXPECT_NE(message.find("+ Awaiting: Lock.acquire() (held by Task '"), std::string::npos)
      << message;
  loop.close();  // abandons the tasks
}

TEST(Deadlock, NotReportedWhileATimerOrAnotherThreadCanWakeTheLoop) {
  // A pending timer: virtual time jumps to it, and it ends the wait.
  run_virtual([]() -> aio::Coro<void> {
    aio::Event e;
    aio::get_running_loop().call_later(100, [&] { e.set(); });
    co_await e.wait();
  });
  // An executor job whose result is still to come.
  run_virtual([]() -> aio::Coro<void> {
    int v = co_await aio::to_thread([] { return 7; });
    EXPECT_EQ(v, 7);
  });
}

TEST(TaskDump, FormatAllTasksShowsEachPendingTask) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Event e;
    aio::Task<void> waiter = aio::create_task(diag_wait_forever(e), "waiter");
    co_await yield0();
    const std::string dump = aio::format_all_tasks(aio::get_running_loop());
    EXPECT_NE(dump.find(" 2 tasks on loop "), std::string::npos) << dump;
    EXPECT_NE(dump.find("* Task(name='waiter'"), std::string::npos) << dump;
    EXPECT_NE(dump.find("+ Awaiting: Event.wait()"), std::string::npos) << dump;
    e.set();
    co_await waiter;
  });
}

}  // namespace

namespace {

TEST(StallSettings, AMalformedAioStallMsIsAnErrorNamingIt) {
  setenv("AIO_STALL_MS", "soon", 1);
  std::string message;
  try {
    aio::EventLoop loop;
  } catch (const aio::RuntimeError& e) {
    message = e.what();
  }
  unsetenv("AIO_STALL_MS");
  EXPECT_EQ(message, "AIO_STALL_MS='soon' is not a number of milliseconds");
}

}  // namespace
