// TaskGroup::cancel() (asyncio 3.15's TaskGroup.cancel, gh-108951): ends a group early, and not
// as an error. On virtual time.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::crash_when_cancelled;
using aio::testing::now;
using aio::testing::run_virtual;

// A child that outlives the body is a plain function: a lambda's captures would die with the
// body's frame (docs/guide.md, "Lambdas as coroutines").
aio::Coro<void> cancel_group_after(aio::TaskGroup tg, double d) {
  co_await aio::sleep(d);
  tg.cancel();
}

aio::Coro<void> run_group_cancelled_at(double d, bool* exited_quietly) {
  co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
    tg.create_task(aio::sleep(10));
    tg.create_task(cancel_group_after(tg, d));
    co_await aio::sleep(10);
  });
  *exited_quietly = true;
}

TEST(TaskGroupCancel, FromTheBodyCancelsTheChildrenAndTheBodyAndExitsQuietly) {
  run_virtual([]() -> aio::Coro<void> {
    std::optional<aio::Task<void>> child;
    bool body_cancelled = false;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
      child = tg.create_task(aio::sleep(10));
      co_await aio::sleep(1);
      tg.cancel();
      try {
        co_await aio::sleep(10);
      } catch (const aio::CancelledError&) {
        body_cancelled = true;
        throw;
      }
    });
    EXPECT_TRUE(body_cancelled);
    EXPECT_TRUE(child->cancelled());
    EXPECT_EQ(aio::current_task()->cancelling(), 0);
    EXPECT_EQ(now(), 1.0);
    co_await aio::sleep(1);  // the caller is not cancelled
    EXPECT_EQ(now(), 2.0);
  });
}

TEST(TaskGroupCancel, FromAChildWhileTheGroupWaitsForItsTasks) {
  run_virtual([]() -> aio::Coro<void> {
    std::optional<aio::Task<void>> sleeper;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
      sleeper = tg.create_task(aio::sleep(10));
      tg.create_task(cancel_group_after(tg, 2));
      co_return;  // the group's exit waits for the tasks
    });
    EXPECT_TRUE(sleeper->cancelled());
    EXPECT_EQ(now(), 2.0);
    EXPECT_EQ(aio::current_task()->cancelling(), 0);
  });
}

TEST(TaskGroupCancel, IsIdempotentAndDoesNothingOnceTheGroupHasEnded) {
  run_virtual([]() -> aio::Coro<void> {
    std::optional<aio::TaskGroup> kept;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
      kept = tg;
      tg.create_task(aio::sleep(10));
      tg.cancel();
      tg.cancel();
      co_return;
    });
    EXPECT_EQ(now(), 0.0);
    kept->cancel();  // ended: nothing to cancel, and the caller is left alone
    EXPECT_EQ(aio::current_task()->cancelling(), 0);
    co_await aio::sleep(1);
    EXPECT_EQ(now(), 1.0);
  });
}

TEST(TaskGroupCancel, ErrorsStillComeOutAsAnExceptionGroup) {
  run_virtual([]() -> aio::Coro<void> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        tg.create_task(crash_when_cancelled(10));  // fails when cancelled
        co_await aio::sleep(1);
        tg.cancel();
        co_await aio::sleep(10);
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(eg.exceptions().size(), 1u);
      for (const auto& e : eg.exceptions())
        EXPECT_THROW(std::rethrow_exception(e), std::domain_error);
    }
    EXPECT_EQ(aio::current_task()->cancelling(), 0);
  });
}

// The task running the group is cancelled from outside as the group cancels itself: the
// outside cancel is not the group's to take back, so CancelledError comes out.
TEST(TaskGroupCancel, ACancelFromOutsideAtTheSameTimeStillComesOut) {
  run_virtual([]() -> aio::Coro<void> {
    bool exited_quietly = false;
    auto t = aio::create_task(run_group_cancelled_at(1, &exited_quietly));
    co_await aio::sleep(1);  // wakes just before the group's child does
    t.cancel();
    bool cancelled = false;
    try {
      co_await t;
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(exited_quietly);
  });
}

}  // namespace
