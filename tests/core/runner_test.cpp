// aio::run() and Runner (asyncio-behaviours.md RUN-*). RUN-07 (a Runner keeps one context
// across run() calls) has no counterpart: aio has no contextvars (docs/guide.md).
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::virtual_time;

TEST(Run, ReturnsTheValueOrRethrows) {  // RUN-01
  EXPECT_EQ(aio::run([]() -> aio::Coro<int> { co_return 42; }(), virtual_time), 42);
  EXPECT_THROW(aio::run(
                   []() -> aio::Coro<void> {
                     throw std::invalid_argument("spam");
                     co_return;
                   }(),
                   virtual_time),
               std::invalid_argument);
}

TEST(Run, RefusesToRunInsideARunningLoop) {  // RUN-02
  aio::run(
      []() -> aio::Coro<void> {
        try {
          aio::run([]() -> aio::Coro<void> { co_return; }());
          ADD_FAILURE();
        } catch (const aio::RuntimeError& e) {
          EXPECT_STREQ(e.what(), "aio::run() cannot be called from a running event loop");
        }
        co_return;
      }(),
      virtual_time);
}

TEST(Run, CancelsLeftoverTasksAndWaitsForThem) {  // RUN-03
  std::vector<std::string> log;
  std::optional<aio::Task<void>> lo;
  auto leftover = [&]() -> aio::Coro<void> {
    try {
      co_await aio::sleep(0.1);
    } catch (const aio::CancelledError&) {
      log.push_back("cancelled");
      throw;
    }
  };
  int r = aio::run(
      [&]() -> aio::Coro<int> {
        lo = aio::create_task(leftover());
        co_await aio::sleep(0);
        co_return 123;
      }(),
      virtual_time);
  EXPECT_EQ(r, 123);
  EXPECT_TRUE(lo->done());
  EXPECT_TRUE(lo->cancelled());
  EXPECT_EQ(log, std::vector<std::string>{"cancelled"});
}

TEST(Run, ErrorsOfLeftoverTasksGoToTheExceptionHandler) {  // RUN-04
  std::vector<aio::ExceptionContext> seen;
  std::optional<aio::TaskRef> leftover_ref;
  auto leftover = []() -> aio::Coro<void> {
    try {
      co_await aio::sleep(0.1);
    } catch (const aio::CancelledError&) {
      throw std::domain_error("division by zero");
    }
  };
  int r = aio::run(
      [&]() -> aio::Coro<int> {
        aio::get_running_loop().set_exception_handler(
            [&](aio::EventLoop&, const aio::ExceptionContext& c) { seen.push_back(c); });
        leftover_ref = aio::create_task(leftover());
        co_await aio::sleep(0);
        co_return 123;
      }(),
      virtual_time);
  EXPECT_EQ(r, 123);
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_NE(seen.at(0).message.find("aio::run() shutdown"), std::string::npos);
  EXPECT_TRUE(seen.at(0).task.has_value());
  EXPECT_TRUE(*seen.at(0).task == *leftover_ref);
  EXPECT_THROW(std::rethrow_exception(seen.at(0).exception), std::domain_error);
}

TEST(Runner, LifeCycle) {  // RUN-06
  aio::EventLoop* loop = nullptr;
  {
    aio::Runner runner(virtual_time);
    EXPECT_EQ(runner.run([]() -> aio::Coro<std::string> { co_return "done"; }()), "done");
    loop = &runner.get_loop();
    EXPECT_FALSE(loop->is_closed());
    EXPECT_EQ(runner.run([]() -> aio::Coro<int> { co_return 2; }()), 2);  // same loop again
    EXPECT_EQ(&runner.get_loop(), loop);
    runner.close();
    EXPECT_TRUE(loop->is_closed());  // the closed loop stays while the Runner does
    runner.close();                  // a no-op
    try {
      runner.get_loop();
      ADD_FAILURE();
    } catch (const aio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "Runner is closed");
    }
    EXPECT_THROW(runner.run([]() -> aio::Coro<void> { co_return; }()), aio::RuntimeError);
  }
}

// While open, the Runner's loop is the thread's current loop; closed, it leaves none (asyncio's
// Runner sets the event loop to None), whatever was current before.
TEST(Runner, TheRunnersLoopIsTheCurrentLoopWhileOpen) {
  auto before = aio::new_event_loop(virtual_time);
  aio::set_event_loop(before.get());
  aio::Runner runner(virtual_time);
  aio::EventLoop& loop = runner.get_loop();
  EXPECT_EQ(&aio::get_event_loop(), &loop);
  runner.close();
  EXPECT_THROW(aio::get_event_loop(), aio::RuntimeError);
}

TEST(Runner, RecursiveRunIsRefused) {  // RUN-08
  aio::Runner runner(virtual_time);
  runner.run([&]() -> aio::Coro<void> {
    try {
      runner.run([]() -> aio::Coro<void> { co_return; }());
      ADD_FAILURE();
    } catch (const aio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "Runner.run() cannot be called from a running event loop");
    }
    co_return;
  }());
}

// asyncio 3.14: run() and Runner.run() take any awaitable, not only a coroutine.
TEST(Run, AcceptsAnyAwaitable) {
  EXPECT_EQ(aio::run(aio::sleep(0.5, 7), virtual_time), 7);
  aio::run(aio::sleep(0), virtual_time);
  aio::Runner runner(virtual_time);
  EXPECT_EQ(runner.run(aio::sleep(1, std::string("x"))), "x");
  auto double_it = [](int x) -> aio::Coro<int> {
    co_await aio::sleep(1);
    co_return 2 * x;
  };
  aio::Task<int> task = runner.get_loop().create_task(double_it(21));
  EXPECT_EQ(runner.run(task), 42);  // a Task of the runner's loop
  aio::Event event;                 // made outside any loop, bound on first use
  runner.get_loop().call_soon([&] { event.set(); });
  EXPECT_TRUE(runner.run(event.wait()));
}

TEST(Run, DebugFlagReachesTheLoop) {  // RUN-10
  for (bool debug : {false, true}) {
    bool seen = !debug;
    aio::run(
        [&]() -> aio::Coro<void> {
          seen = aio::get_running_loop().get_debug();
          co_return;
        }(),
        {.debug = debug, .virtual_time = true});
    EXPECT_EQ(seen, debug);
  }
}

TEST(Run, KeyboardInterruptInTheMainTaskEscapes) {
  EXPECT_THROW(aio::run(
                   []() -> aio::Coro<void> {
                     co_await aio::sleep(1);
                     throw aio::KeyboardInterrupt();
                   }(),
                   virtual_time),
               aio::KeyboardInterrupt);
}

// main fails at once, leaving a task that iterates an async generator. run() cancels the task
// (the cancellation leaves the generator through its sleep, so the generator's body ends
// first), reports the task's own error to the exception handler, finalizes generators, and
// throws main's error.
TEST(Run, GeneratorsAreFinalizedAfterTheTasksAreCancelled) {  // RUN-05
  struct FancyExit : std::runtime_error {
    FancyExit() : std::runtime_error("fancy exit") {}
  };
  std::vector<std::string> log;
  std::optional<aio::Task<void>> lazyboy;
  std::optional<aio::AsyncGenerator<int>> spinner;
  int reported = 0;
  auto fidget = [&]() -> aio::AsyncGenerator<int> {
    struct OnExit {
      std::vector<std::string>& log;
      ~OnExit() { log.push_back("generator body ended"); }
    } on_exit{log};
    for (;;) {
      co_yield 1;
      co_await aio::sleep(1);
    }
  };
  auto spin = [&]() -> aio::Coro<void> {
    spinner.emplace(fidget());
    try {
      for (;;) {
        std::optional<int> step = co_await spinner->next();
        if (!step) break;
      }
    } catch (const aio::CancelledError&) {
      log.push_back("task cancelled");
      throw std::domain_error("division by zero");
    }
  };
  auto main_task = [&]() -> aio::Coro<void> {
    aio::get_running_loop().set_exception_handler(
        [&](aio::EventLoop&, const aio::ExceptionContext&) { ++reported; });
    lazyboy = aio::create_task(spin());
    throw FancyExit();
    co_return;
  };
  EXPECT_THROW(aio::run(main_task(), virtual_time), FancyExit);
  ASSERT_TRUE(lazyboy.has_value());
  EXPECT_TRUE(lazyboy->done());
  EXPECT_EQ(log, (std::vector<std::string>{"generator body ended", "task cancelled"}));
  EXPECT_EQ(reported, 1);
}

}  // namespace
