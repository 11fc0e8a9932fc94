// AsyncGenerator (asyncio-behaviours.md AG-*), on virtual time. C++ allows no co_await in a
// catch handler, so a generator's "finally that awaits" catches, then awaits, then rethrows.
// Two cases have no C++ counterpart (docs/guide.md): AG-03, asend(), since a C++ co_yield has no
// value to receive; AG-10, finalizing a generator when the garbage collector finds it, since a
// generator destroyed while suspended runs its destructors at once and no async cleanup.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::now;
using aio::testing::run_virtual;
using aio::testing::yield0;

aio::AsyncGenerator<int> three() {
  co_yield 123;
  co_await aio::sleep(0.1);
  co_yield 456;
  co_yield 789;
}

TEST(AsyncGenerator, IterationWithAwaitsAndExhaustion) {  // AG-01, AG-13
  run_virtual([]() -> aio::Coro<void> {
    const auto all = co_await aio::collect(three());
    EXPECT_EQ(all, (std::vector<int>{123, 456, 789}));
    EXPECT_DOUBLE_EQ(now(), 0.1);
    auto g = three();
    std::vector<int> seen;
    while (auto v = co_await g.next()) seen.push_back(*v);
    EXPECT_EQ(seen.size(), 3u);
    EXPECT_FALSE(co_await g.next());  // exhausted, again and again
    EXPECT_FALSE(co_await g.next());
  });
}

TEST(AsyncGenerator, ExceptionsFromTheBody) {  // AG-02
  run_virtual([]() -> aio::Coro<void> {
    auto gen = []() -> aio::AsyncGenerator<int> {
      co_yield 1;
      co_yield 2;
      throw std::domain_error("zero division");
    };
    auto g = gen();
    std::vector<int> got;
    try {
      while (auto v = co_await g.next()) got.push_back(*v);
      ADD_FAILURE();
    } catch (const std::domain_error&) {
    }
    EXPECT_EQ(got, (std::vector<int>{1, 2}));
    EXPECT_FALSE(co_await g.next());
  });
}

TEST(AsyncGenerator, AthrowCaughtInside) {  // AG-04, AG-05
  run_virtual([]() -> aio::Coro<void> {
    auto foo = []() -> aio::AsyncGenerator<int> {
      co_yield 1;
      co_await aio::sleep(0.01);
      bool caught = false;
      try {
        co_yield 2;
        co_yield 3;
      } catch (const std::domain_error&) {
        caught = true;
      }
      if (caught) co_yield 1000;
      co_await aio::sleep(0.01);
      co_yield 4;
    };
    auto g = foo();
    EXPECT_EQ(*co_await g.next(), 1);
    EXPECT_EQ(*co_await g.next(), 2);
    EXPECT_EQ(*co_await g.athrow(std::make_exception_ptr(std::domain_error("z"))), 1000);
    EXPECT_EQ(*co_await g.next(), 4);
    EXPECT_FALSE(co_await g.next());

    auto converts = []() -> aio::AsyncGenerator<int> {
      try {
        co_yield 1;
      } catch (const std::domain_error&) {
        throw std::out_of_range("key");
      }
    };
    auto c = converts();
    co_await c.next();
    EXPECT_THROW(co_await c.athrow(std::make_exception_ptr(std::domain_error("z"))),
                 std::out_of_range);
  });
}

TEST(AsyncGenerator, AcloseRunsCleanupWhichMayAwait) {  // AG-06, AG-08
  run_virtual([]() -> aio::Coro<void> {
    int done = 0;
    auto foo = [&]() -> aio::AsyncGenerator<int> {
      std::exception_ptr leaving;
      try {
        co_yield 1;
        throw std::domain_error("never");
      } catch (...) {
        leaving = std::current_exception();
      }
      co_await aio::sleep(0.01);  // the "finally", awaiting
      co_await aio::sleep(0.01);
      done += 1;
      std::rethrow_exception(leaving);
    };
    auto g = foo();
    EXPECT_EQ(*co_await g.next(), 1);
    co_await g.aclose();
    EXPECT_EQ(done, 1);
    EXPECT_DOUBLE_EQ(now(), 0.02);
    co_await g.aclose();  // twice is fine
    EXPECT_FALSE(co_await g.next());
    auto h = three();
    co_await aio::collect(std::move(h));
    auto never_started = three();
    co_await never_started.aclose();
    EXPECT_FALSE(co_await never_started.next());
  });
}

TEST(AsyncGenerator, IgnoringGeneratorExitIsARuntimeError) {  // AG-07
  run_virtual([]() -> aio::Coro<void> {
    auto stubborn = []() -> aio::AsyncGenerator<int> {
      bool exiting = false;
      try {
        co_yield 1;
      } catch (const aio::GeneratorExit&) {
        exiting = true;
      }
      if (exiting) co_yield 2;  // yields again: not allowed
    };
    auto g = stubborn();
    co_await g.next();
    try {
      co_await g.aclose();
      ADD_FAILURE();
    } catch (const aio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "async generator ignored GeneratorExit");
    }
    auto swallowing = []() -> aio::AsyncGenerator<int> {
      try {
        co_yield 1;
      } catch (...) {
      }
    };
    auto s = swallowing();
    co_await s.next();
    co_await s.aclose();  // swallowing and falling off the end is fine
  });
}

TEST(AsyncGenerator, CancellationPropagatesOutOfNext) {  // AG-09
  run_virtual([]() -> aio::Coro<void> {
    int done = 0;
    aio::Future<int> fut;
    auto gen = [&]() -> aio::AsyncGenerator<int> {
      std::exception_ptr leaving;
      try {
        co_yield co_await fut;
      } catch (...) {
        leaving = std::current_exception();
      }
      co_await aio::sleep(0.01);
      done += 1;
      if (leaving) std::rethrow_exception(leaving);
    };
    auto g = gen();
    auto consumer = [&]() -> aio::Coro<void> { co_await g.next(); };
    auto t = aio::create_task(consumer());
    co_await yield0();
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_TRUE(fut.cancelled());
    EXPECT_EQ(done, 1);
  });
}

TEST(AsyncGenerator, ShutdownAsyncgensFinalizesSuspendedGenerators) {  // AG-11, AG-12
  int finalized = 0;
  auto gen = [&finalized]() -> aio::AsyncGenerator<int> {
    bool exiting = false;
    try {
      for (int i = 0;; ++i) co_yield i;
    } catch (const aio::GeneratorExit&) {
      exiting = true;
    }
    if (exiting) {
      co_await aio::sleep(0.01);
      ++finalized;
      throw aio::GeneratorExit();
    }
  };
  std::vector<aio::AsyncGenerator<int>> alive;  // outlives the tasks: run() must close them
  std::vector<std::string> handler;
  aio::run(
      [&]() -> aio::Coro<void> {
        aio::get_running_loop().set_exception_handler(
            [&](aio::EventLoop&, const aio::ExceptionContext& c) { handler.push_back(c.message); });
        alive.push_back(gen());
        alive.push_back(gen());
        for (auto& g : alive) co_await g.next();
      }(),
      aio::testing::virtual_time);
  EXPECT_EQ(finalized, 2);
  EXPECT_TRUE(handler.empty());

  auto failing = []() -> aio::AsyncGenerator<int> {
    bool exiting = false;
    try {
      co_yield 1;
    } catch (const aio::GeneratorExit&) {
      exiting = true;
    }
    if (exiting) throw std::domain_error("zero division in cleanup");
  };
  alive.clear();
  aio::run(
      [&]() -> aio::Coro<void> {
        aio::get_running_loop().set_exception_handler(
            [&](aio::EventLoop&, const aio::ExceptionContext& c) { handler.push_back(c.message); });
        alive.push_back(failing());
        co_await alive.back().next();
      }(),
      aio::testing::virtual_time);
  ASSERT_EQ(handler.size(), 1u);
  EXPECT_NE(handler[0].find("an error occurred during closing of asynchronous generator"),
            std::string::npos);
  alive.clear();
}

// asyncio refuses to await the same __anext__()/aclose() object twice; here they are Coros,
// which are awaited at most once.
TEST(AsyncGenerator, AnAwaitedStepCannotBeAwaitedAgain) {  // AG-14
  run_virtual([]() -> aio::Coro<void> {
    auto g = three();
    auto step = g.next();
    EXPECT_EQ(co_await step, 123);
    EXPECT_THROW(co_await step, aio::RuntimeError);
    auto close = g.aclose();
    co_await close;
    EXPECT_THROW(co_await close, aio::RuntimeError);
  });
}

// anext(g, default) is next().value_or(default); an exhausted generator keeps answering
// nullopt. A generator that is in the middle of a step (awaiting in its body, or calling
// next() on itself) refuses another step: "already running", as asyncio does.
TEST(AsyncGenerator, DefaultsAndReentrancy) {  // AG-15
  run_virtual([]() -> aio::Coro<void> {
    auto two = []() -> aio::AsyncGenerator<std::string> {
      co_yield "1";
      co_yield "2";
    };
    auto g = two();
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i) got.push_back((co_await g.next()).value_or("buckle my shoe"));
    EXPECT_EQ(got, (std::vector<std::string>{"1", "2", "buckle my shoe"}));
    EXPECT_FALSE(co_await g.next());
    EXPECT_EQ((co_await g.next()).value_or("default"), "default");

    aio::AsyncGenerator<int>* self = nullptr;
    std::string error;
    auto reentrant = [&]() -> aio::AsyncGenerator<int> {
      try {
        co_await self->next();
      } catch (const aio::RuntimeError& e) {
        error = e.what();
      }
      co_yield 1;
    };
    auto r = reentrant();
    self = &r;
    EXPECT_EQ(co_await r.next(), 1);
    EXPECT_NE(error.find("already running"), std::string::npos) << error;

    // Two tasks stepping one generator: the second is refused while the first is inside.
    auto slow = three();
    co_await slow.next();  // now before its sleep(0.1)
    auto first = aio::create_task(slow.next());
    co_await yield0();
    EXPECT_THROW(co_await slow.next(), aio::RuntimeError);
    EXPECT_THROW(co_await slow.aclose(), aio::RuntimeError);
    EXPECT_EQ(co_await first, 456);
    EXPECT_EQ(co_await slow.next(), 789);
    co_await slow.aclose();
  });
}

}  // namespace
