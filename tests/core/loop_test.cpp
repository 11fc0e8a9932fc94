// The event loop and sleep (asyncio-behaviours.md SLEEP-*, LOOP-*), on virtual time.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::now;
using aio::testing::run_virtual;
using aio::testing::yield0;

TEST(Sleep, ZeroYieldsExactlyOnceAndReturnsItsResult) {  // SLEEP-01
  run_virtual([]() -> aio::Coro<void> {
    int result = 0;
    aio::get_running_loop().call_soon([&] { result += 1; });
    EXPECT_EQ(result, 0);
    int num = co_await aio::sleep(0, 10);
    EXPECT_EQ(result, 1);
    EXPECT_EQ(num, 10);
    EXPECT_DOUBLE_EQ(now(), 0.0);
  });
}

TEST(Sleep, RoundRobinWithSleepZero) {  // SLEEP-02
  run_virtual([]() -> aio::Coro<void> {
    std::vector<std::string> log;
    auto a = [&](std::string tag) -> aio::Coro<void> {
      for (int i = 0; i < 3; ++i) {
        log.push_back(tag + std::to_string(i));
        co_await yield0();
      }
    };
    co_await aio::gather(a("a"), a("b"));
    EXPECT_EQ(log, (std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"}));
  });
}

TEST(Loop, CallbacksScheduledDuringAnIterationRunInTheNext) {  // SLEEP-03
  run_virtual([]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    std::vector<std::string> log;
    auto cb = [&](std::string tag) {
      log.push_back(tag);
      loop.call_soon([&log, tag] { log.push_back(tag + "-child"); });
    };
    loop.call_soon([&] { cb("x"); });
    loop.call_soon([&] { cb("y"); });
    co_await yield0();
    EXPECT_EQ(log, (std::vector<std::string>{"x", "y"}));
    co_await yield0();
    EXPECT_EQ(log, (std::vector<std::string>{"x", "y", "x-child", "y-child"}));
  });
}

TEST(Sleep, WakeOrderFollowsTheDeadline) {  // SLEEP-04
  run_virtual([]() -> aio::Coro<void> {
    std::vector<std::pair<std::string, double>> log;
    auto s = [&](double d, std::string tag) -> aio::Coro<void> {
      co_await aio::sleep(d);
      log.emplace_back(tag, now());
    };
    co_await aio::gather(s(0.3, "c"), s(0.1, "a"), s(0.2, "b"));
    EXPECT_EQ(log.size(), 3u);
    EXPECT_EQ(log.at(0).first, "a");
    EXPECT_DOUBLE_EQ(log.at(0).second, 0.1);
    EXPECT_EQ(log.at(1).first, "b");
    EXPECT_DOUBLE_EQ(log.at(1).second, 0.2);
    EXPECT_EQ(log.at(2).first, "c");
    EXPECT_DOUBLE_EQ(log.at(2).second, 0.3);
  });
}

TEST(Sleep, ChainedSleepsAddUpAndANegativeDelayActsAsZero) {  // SLEEP-05
  run_virtual([]() -> aio::Coro<void> {
    auto sleeper = [](double dt, std::string arg) -> aio::Coro<std::string> {
      co_await aio::sleep(dt / 2);
      co_return co_await aio::sleep(dt / 2, arg);
    };
    EXPECT_EQ(co_await sleeper(0.1, "yeah"), "yeah");
    EXPECT_DOUBLE_EQ(now(), 0.1);
    EXPECT_EQ(co_await aio::sleep(-1, std::string("neg")), "neg");
    EXPECT_DOUBLE_EQ(now(), 0.1);
  });
}

TEST(Sleep, EqualDeadlinesRunFifo) {  // SLEEP-06: asyncio leaves it open, aio promises FIFO
  run_virtual([]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    std::vector<int> order;
    for (int i = 0; i < 20; ++i) loop.call_later(1, [&order, i] { order.push_back(i); });
    co_await aio::sleep(2);
    std::vector<int> expected(20);
    for (int i = 0; i < 20; ++i) expected[i] = i;
    EXPECT_EQ(order, expected);
  });
}

TEST(Sleep, CancellingASleepingTaskRemovesItsTimer) {  // SLEEP-07
  run_virtual([]() -> aio::Coro<void> {
    auto t = aio::create_task(aio::sleep(10, std::string("yeah")));
    co_await yield0();
    t.cancel();
    co_await yield0();
    EXPECT_TRUE(t.cancelled());
    // With the timer gone the loop has nothing left to wait for: the clock did not move.
    co_await aio::sleep(0);
    EXPECT_DOUBLE_EQ(now(), 0.0);
  });
}

// asyncio: awaiting a coroutine object twice is RuntimeError("cannot reuse already awaited
// coroutine"); a Sleep is one (its timer lives in the frame that awaits it).
TEST(Sleep, AwaitingTheSameSleepTwiceIsARuntimeError) {
  run_virtual([]() -> aio::Coro<void> {
    auto expect_reuse_refused = [](auto& s) -> aio::Coro<void> {
      try {
        co_await s;
        ADD_FAILURE() << "awaited twice";
      } catch (const aio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "cannot reuse already awaited coroutine");
      }
    };
    auto timed = aio::sleep(0.5);
    co_await timed;
    co_await expect_reuse_refused(timed);
    EXPECT_EQ(now(), 0.5);
    auto yield = aio::sleep(0);
    co_await yield;
    co_await expect_reuse_refused(yield);
    auto valued = aio::sleep(1, std::string("v"));
    EXPECT_EQ(co_await valued, "v");
    co_await expect_reuse_refused(valued);
    EXPECT_EQ(now(), 1.5);

    // Cancelled while sleeping: awaited too.
    auto cancelled_sleep = [&]() -> aio::Coro<void> {
      auto s = aio::sleep(10);
      try {
        co_await s;
      } catch (const aio::CancelledError&) {
      }
      co_await expect_reuse_refused(s);
    };
    auto t = aio::create_task(cancelled_sleep());
    co_await yield0();
    t.cancel();
    co_await t;
    EXPECT_EQ(now(), 1.5);
  });
}

TEST(Sleep, AcceptsChronoDurationsAndConvertsToCoro) {
  run_virtual([]() -> aio::Coro<void> {
    using namespace std::chrono_literals;
    co_await aio::sleep(250ms);
    EXPECT_DOUBLE_EQ(now(), 0.25);
    aio::Coro<void> c = aio::sleep(1);
    co_await std::move(c);
    EXPECT_DOUBLE_EQ(now(), 1.25);
  });
}

TEST(Sleep, EveryFormOfDelayMeansSeconds) {
  // An int, a double, a float, a chrono duration and a Duration, with and without a result:
  // the number overloads (which keep the frame small) agree with the Duration ones.
  run_virtual([]() -> aio::Coro<void> {
    using namespace std::chrono_literals;
    co_await aio::sleep(1);
    co_await aio::sleep(0.5);
    co_await aio::sleep(0.25f);
    co_await aio::sleep(125ms);
    co_await aio::sleep(aio::Duration(0.125));
    EXPECT_DOUBLE_EQ(now(), 2.0);
    EXPECT_EQ(co_await aio::sleep(1, 'a'), 'a');
    EXPECT_EQ(co_await aio::sleep(0.5, std::string("b")), "b");
    EXPECT_EQ(co_await aio::sleep(500ms, 3), 3);
    EXPECT_EQ(co_await aio::sleep(aio::Duration(1), 4), 4);
    EXPECT_DOUBLE_EQ(now(), 5.0);
    const double nan = std::nan("");
    EXPECT_THROW((void)aio::sleep(nan), std::invalid_argument);
    EXPECT_THROW((void)aio::sleep(nan, 1), std::invalid_argument);
    EXPECT_THROW((void)aio::sleep(std::chrono::duration<double>(nan)), std::invalid_argument);
  });
}

TEST(Loop, ReadyWorkRunsFifoAcrossAnyNumberOfQueuedCallbacks) {
  // Thousands of callbacks at once (the queue fills many blocks, and frees most again), then a
  // few at a time (the emptied blocks are reused): order is kept throughout, and each runs once.
  aio::EventLoop loop({.virtual_time = true});
  std::vector<int> order;
  int next = 0;
  const auto queue = [&](int n) {
    for (int i = 0; i < n; ++i) loop.call_soon([&order, v = next++] { order.push_back(v); });
  };
  queue(20000);  // 40 blocks: most are freed again as the queue drains
  loop.run_until_complete(aio::sleep(0));
  for (int round = 0; round < 2000; ++round) {
    queue(round % 7);
    loop.run_until_complete(aio::sleep(0));
  }
  queue(1500);
  loop.run_until_complete(aio::sleep(0));
  ASSERT_EQ(static_cast<int>(order.size()), next);
  for (int i = 0; i < next; ++i) ASSERT_EQ(order[i], i);
  loop.close();
}

TEST(Loop, CallSoonCallLaterCallAtAndHandleCancel) {  // LOOP-01
  aio::EventLoop loop({.virtual_time = true});
  std::vector<std::string> log;
  loop.call_later(0.2, [&] { log.push_back("later0.2"); });
  loop.call_later(0.1, [&] { log.push_back("later0.1"); });
  loop.call_soon([&] { log.push_back("soon1"); });
  aio::Handle h = loop.call_soon([&] { log.push_back("cancelled"); });
  loop.call_soon([&] { log.push_back("soon2"); });
  h.cancel();
  EXPECT_TRUE(h.cancelled());
  aio::TimerHandle at = loop.call_at(0.15, [&] { log.push_back("at0.15"); });
  EXPECT_DOUBLE_EQ(at.when(), 0.15);
  aio::TimerHandle never = loop.call_at(0.25, [&] { log.push_back("never"); });
  never.cancel();
  loop.call_later(0.3, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(log, (std::vector<std::string>{"soon1", "soon2", "later0.1", "at0.15", "later0.2"}));
  EXPECT_DOUBLE_EQ(loop.time(), 0.3);
}

TEST(Loop, ReentrancyAndAClosedLoop) {  // LOOP-02
  aio::EventLoop loop({.virtual_time = true});
  auto reenter = [&]() -> aio::Coro<void> {
    try {
      loop.run_until_complete(aio::sleep(0));
      ADD_FAILURE();
    } catch (const aio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "This event loop is already running");
    }
    co_return;
  };
  loop.run_until_complete(reenter());
  EXPECT_FALSE(loop.is_closed());
  loop.close();
  EXPECT_TRUE(loop.is_closed());
  loop.close();  // idempotent
  try {
    loop.run_until_complete(aio::sleep(0));
    ADD_FAILURE();
  } catch (const aio::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Event loop is closed");
  }
  EXPECT_THROW(loop.run_forever(), aio::RuntimeError);
  EXPECT_THROW(loop.call_soon([] {}), aio::RuntimeError);
  EXPECT_THROW(loop.call_later(1, [] {}), aio::RuntimeError);
  EXPECT_THROW(loop.create_task(aio::sleep(0)), aio::RuntimeError);
  EXPECT_THROW(loop.call_soon_threadsafe([] {}), aio::RuntimeError);
}

TEST(Loop, RunningAndClosingStates) {
  aio::EventLoop loop({.virtual_time = true});
  EXPECT_FALSE(loop.is_running());
  auto body = [&]() -> aio::Coro<void> {
    EXPECT_TRUE(loop.is_running());
    EXPECT_EQ(&aio::get_running_loop(), &loop);
    EXPECT_EQ(&aio::get_event_loop(), &loop);
    EXPECT_THROW(loop.close(), aio::RuntimeError);
    co_return;
  };
  loop.run_until_complete(body());
  EXPECT_FALSE(loop.is_running());
}

TEST(Loop, StopBeforeRunForeverRunsOneIteration) {
  aio::EventLoop loop({.virtual_time = true});
  int ran = 0;
  loop.call_soon([&] { ++ran; });
  loop.stop();
  loop.run_forever();
  EXPECT_EQ(ran, 1);
}

TEST(Loop, ExceptionInACallbackGoesToTheHandler) {
  aio::EventLoop loop({.virtual_time = true});
  std::vector<std::string> seen;
  loop.set_exception_handler([&](aio::EventLoop& l, const aio::ExceptionContext& c) {
    EXPECT_EQ(&l, &loop);
    seen.push_back(c.message + " / " + aio::describe_exception(c.exception));
  });
  loop.call_soon([] { throw std::runtime_error("boom"); });
  int after = 0;
  loop.call_soon([&] { ++after; });
  loop.run_until_complete(aio::sleep(0));
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen.at(0), "Exception in callback / std::runtime_error: boom");
  EXPECT_EQ(after, 1);
}

TEST(Loop, TaskExceptionNeverRetrievedIsReported) {
  aio::EventLoop loop({.virtual_time = true});
  std::vector<aio::ExceptionContext> seen;
  loop.set_exception_handler(
      [&](aio::EventLoop&, const aio::ExceptionContext& c) { seen.push_back(c); });
  auto fail = []() -> aio::Coro<void> {
    throw std::runtime_error("lost");
    co_return;
  };
  (void)loop.create_task(fail());
  loop.run_until_complete(aio::sleep(1));
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_NE(seen.at(0).message.find("Task exception was never retrieved"), std::string::npos);
  EXPECT_NE(seen.at(0).message.find("coro=<"), std::string::npos);
  EXPECT_THROW(std::rethrow_exception(seen.at(0).exception), std::runtime_error);
}

TEST(Loop, PendingTaskDestroyedWithTheLoopIsReportedAndFreed) {
  std::vector<std::string> seen;
  bool destroyed = false;
  {
    aio::EventLoop loop({.virtual_time = true});
    loop.set_exception_handler(
        [&](aio::EventLoop&, const aio::ExceptionContext& c) { seen.push_back(c.message); });
    struct Guard {
      bool* flag;
      ~Guard() { *flag = true; }
    };
    auto body = [&]() -> aio::Coro<void> {
      Guard g{&destroyed};
      co_await aio::sleep(100);
    };
    (void)loop.create_task(body());
    loop.run_until_complete(aio::sleep(1));
    loop.close();
    EXPECT_TRUE(destroyed);  // the frame's destructors ran
  }
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_NE(seen.at(0).find("Task was destroyed but it is pending!"), std::string::npos);
}

TEST(Loop, VirtualClockStartsAtZeroAndJumps) {
  aio::EventLoop loop({.virtual_time = true});
  EXPECT_DOUBLE_EQ(loop.time(), 0.0);
  const double before = aio::perf_counter();
  loop.run_until_complete(aio::sleep(3600));
  EXPECT_DOUBLE_EQ(loop.time(), 3600.0);
  EXPECT_GE(aio::perf_counter() - before, 3600.0);  // perf_counter counts the skipped hour
}

// asyncio 3.14: get_event_loop() no longer makes a loop; outside a running loop it returns the
// one set_event_loop() set, else RuntimeError. set_event_loop() never destroys a loop.
TEST(Loop, GetEventLoopReturnsTheLoopSetAndNeverMakesOne) {
  std::thread t([] {  // a fresh thread: a fresh current-loop setting
    try {
      aio::get_event_loop();
      ADD_FAILURE() << "a loop was made";
    } catch (const aio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "There is no current event loop in this thread");
    }
    EXPECT_THROW(aio::Future<int>{}, aio::RuntimeError);  // nothing to bind to
    EXPECT_THROW(
        {
          auto g = aio::gather(aio::sleep(0));
          (void)g;
        },
        aio::RuntimeError);
    auto mine = aio::new_event_loop({.virtual_time = true});
    aio::set_event_loop(mine.get());
    EXPECT_EQ(&aio::get_event_loop(), mine.get());
    aio::Future<int> bound;  // binds to the current loop
    EXPECT_EQ(&bound.get_loop(), mine.get());
    aio::set_event_loop(nullptr);
    EXPECT_THROW(aio::get_event_loop(), aio::RuntimeError);
    EXPECT_FALSE(mine->is_closed());
  });
  t.join();
}

TEST(Loop, DebugModeFlagsAndSlowCallbacks) {
  aio::EventLoop loop({.debug = true, .virtual_time = true});
  EXPECT_TRUE(loop.get_debug());
  loop.set_debug(false);
  EXPECT_FALSE(loop.get_debug());
  EXPECT_DOUBLE_EQ(loop.slow_callback_duration, 0.1);
  loop.set_debug(true);
  loop.slow_callback_duration = 0.0;  // every callback is "slow"
  testing::internal::CaptureStderr();
  loop.run_until_complete(loop.create_task(aio::sleep(0), "slowpoke"));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Executing <Task name='slowpoke'> took"), std::string::npos) << err;
}

}  // namespace
