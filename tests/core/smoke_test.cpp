#include <gtest/gtest.h>

#include <aio/aio.hpp>

namespace {

aio::Coro<int> answer() {
  co_await aio::sleep(1);
  co_return 42;
}

TEST(Smoke, RunsACoroutine) {
  double t = 0;
  int r = aio::run(
      [&]() -> aio::Coro<int> {
        int v = co_await answer();
        t = aio::get_running_loop().time();
        co_return v;
      }(),
      {.virtual_time = true});
  EXPECT_EQ(r, 42);
  EXPECT_DOUBLE_EQ(t, 1.0);
}

}  // namespace
