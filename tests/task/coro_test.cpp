// Coro<T>: laziness, inline awaiting, misuse (asyncio-behaviours.md MISC-02, MISC-03).
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::run_virtual;

aio::Coro<int> nested(bool* ran) {
  *ran = true;
  co_return 42;
}

TEST(Coro, DoesNothingUntilAwaited) {
  bool ran = false;
  {
    auto c = nested(&ran);
    EXPECT_FALSE(ran);
  }
  EXPECT_FALSE(ran);  // destroyed without ever running
}

TEST(Coro, AwaitingRunsInlineWithoutATripThroughTheLoop) {
  run_virtual([]() -> aio::Coro<void> {
    bool ran = false, callback = false;
    aio::get_running_loop().call_soon([&] { callback = true; });
    EXPECT_EQ(co_await nested(&ran), 42);
    EXPECT_TRUE(ran);
    EXPECT_FALSE(callback);
  });
}

TEST(Coro, AwaitingTwiceIsARuntimeError) {  // MISC-03
  run_virtual([]() -> aio::Coro<void> {
    bool ran = false;
    auto c = nested(&ran);
    EXPECT_EQ(co_await c, 42);
    try {
      co_await c;
      ADD_FAILURE();
    } catch (const aio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "cannot reuse already awaited coroutine");
    }
  });
}

TEST(Coro, AwaitingACoroGivenToATaskIsARuntimeError) {  // MISC-02
  run_virtual([]() -> aio::Coro<void> {
    bool ran = false;
    auto c = nested(&ran);
    auto t = aio::create_task(std::move(c));
    EXPECT_THROW(co_await c, aio::RuntimeError);  // NOLINT(bugprone-use-after-move)
    EXPECT_THROW(aio::create_task(std::move(c)), aio::RuntimeError);
    EXPECT_EQ(co_await t, 42);
  });
}

TEST(Coro, ExceptionsPropagateToTheAwaiter) {
  run_virtual([]() -> aio::Coro<void> {
    auto fails = []() -> aio::Coro<std::string> {
      throw std::length_error("too long");
      co_return "";
    };
    EXPECT_THROW(co_await fails(), std::length_error);
  });
}

TEST(Coro, MoveOnlyResults) {
  run_virtual([]() -> aio::Coro<void> {
    auto make = []() -> aio::Coro<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
    std::unique_ptr<int> p = co_await make();
    EXPECT_EQ(*p, 7);
    auto t = aio::create_task(make());
    std::unique_ptr<int> q = co_await std::move(t);
    EXPECT_EQ(*q, 7);
  });
}

// Symmetric transfer keeps the stack flat in optimised builds; GCC at -O0 (the sanitizer
// build) does not turn it into a tail call, so the depth here is what any build must take.
TEST(Coro, DeepInlineChains) {
  run_virtual([]() -> aio::Coro<void> {
    struct Chain {
      static aio::Coro<int> depth(int n) {
        if (n == 0) co_return 0;
        co_return 1 + co_await depth(n - 1);
      }
    };
    EXPECT_EQ(co_await Chain::depth(2000), 2000);
  });
}

TEST(Coro, NeverAwaitedIsReportedInDebugMode) {
  testing::internal::CaptureStderr();
  aio::run(
      []() -> aio::Coro<void> {
        bool ran = false;
        { auto forgotten = nested(&ran); }
        co_return;
      }(),
      {.debug = true, .virtual_time = true});
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("coroutine 'nested' was never awaited"), std::string::npos) << err;
}

TEST(Coro, CancellationReachesTheInnermostAwait) {
  run_virtual([]() -> aio::Coro<void> {
    std::string where;
    auto leaf = [&]() -> aio::Coro<void> {
      try {
        co_await aio::sleep(10);
      } catch (const aio::CancelledError&) {
        where = "leaf";
        throw;
      }
    };
    auto middle = [&]() -> aio::Coro<void> { co_await leaf(); };
    auto t = aio::create_task(middle());
    co_await aio::sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_EQ(where, "leaf");
    EXPECT_DOUBLE_EQ(aio::testing::now(), 1.0);
  });
}

#ifdef AIO_CHECK_FRAME_LAYOUT
// GCC before 13 misplaces this coroutine's frame (a co_await in a condition, no variable: GCC
// PR 106188). Debug builds stop it at once, naming it, instead of letting its first step crash.
aio::Coro<void> miscompiled_by_gcc12() {
  if (co_await aio::sleep(0, true)) std::puts("never");
}

TEST(CoroDeathTest, AFrameMisplacedByGcc12StopsWithAMessageNamingIt) {
  ::testing::GTEST_FLAG(death_test_style) = "threadsafe";
  EXPECT_DEATH(aio::run(miscompiled_by_gcc12(), aio::testing::virtual_time),
               "coroutine 'miscompiled_by_gcc12' was miscompiled by GCC before 13");
}
#endif

}  // namespace
