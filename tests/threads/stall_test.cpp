// The stall detector (RunOptions::stall_threshold): a step that runs past the threshold is
// reported while it runs, once, and again when it ends; shorter steps are not. Real time: a
// step is a real spin here (virtual time cannot stall a step), with generous bounds.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "aio/aio.hpp"

namespace {

std::mutex stall_reports_mutex;
std::vector<aio::StallReport> stall_reports;

void collect_stall(const aio::StallReport& report) {
  std::lock_guard lock(stall_reports_mutex);
  stall_reports.push_back(report);
}

void stall_spin(std::chrono::milliseconds how_long) {
  const auto until = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < until) {
  }
}

aio::Coro<void> stall_spinning_leaf(std::chrono::milliseconds how_long) {
  co_await aio::sleep(0);
  stall_spin(how_long);
}

aio::Coro<void> stall_spinning_task(std::chrono::milliseconds how_long) {
  co_await stall_spinning_leaf(how_long);
}

aio::RunOptions stall_options() {
  aio::RunOptions options;
  options.stall_threshold = 0.1;
  options.stall_handler = collect_stall;
  return options;
}

TEST(StallDetector, AStepPastTheThresholdIsReportedOnceWhileItRunsAndWhenItEnds) {
  {
    std::lock_guard lock(stall_reports_mutex);
    stall_reports.clear();
  }
  aio::EventLoop loop(stall_options());
  loop.run_until_complete([]() -> aio::Coro<void> {
    auto t = aio::create_task(stall_spinning_task(std::chrono::milliseconds(600)), "spinner");
    co_await t;
  }());
  const aio::LoopMetrics m = loop.metrics();
  loop.close();
  std::lock_guard lock(stall_reports_mutex);
  ASSERT_EQ(stall_reports.size(), 2u);
  const aio::StallReport& during = stall_reports[0];
  EXPECT_FALSE(during.ended);
  EXPECT_EQ(during.loop, &loop);
  EXPECT_EQ(during.task, "Task 'spinner'");
  EXPECT_GE(during.seconds, 0.1);
  EXPECT_LT(during.seconds, 0.6);
  // The task's Coros, innermost first, and the native stack, which has the spinning function.
  EXPECT_LT(during.call_stack.find("stall_spinning_leaf"),
            during.call_stack.find("stall_spinning_task"))
      << during.call_stack;
  EXPECT_NE(during.native_stack.find("#0 "), std::string::npos) << during.native_stack;
  EXPECT_NE(during.text.find("aio: stall: Task 'spinner' has been running for"), std::string::npos)
      << during.text;
  const aio::StallReport& after = stall_reports[1];
  EXPECT_TRUE(after.ended);
  EXPECT_EQ(after.task, "Task 'spinner'");
  EXPECT_GE(after.seconds, 0.4);
  EXPECT_EQ(m.stalls, 1u);
  EXPECT_GE(m.slowest_step_seconds, 0.5);
}

TEST(StallDetector, StepsBelowTheThresholdAreNotReported) {
  {
    std::lock_guard lock(stall_reports_mutex);
    stall_reports.clear();
  }
  aio::EventLoop loop(stall_options());
  loop.run_until_complete([]() -> aio::Coro<void> {
    for (int i = 0; i < 10; ++i) co_await stall_spinning_task(std::chrono::milliseconds(10));
  }());
  EXPECT_EQ(loop.metrics().stalls, 0u);
  loop.close();
  std::lock_guard lock(stall_reports_mutex);
  EXPECT_TRUE(stall_reports.empty());
}

TEST(StallDetector, OffByDefaultAndUnderVirtualTime) {
  aio::RunOptions options;
  options.virtual_time = true;
  options.stall_threshold = 0.01;
  aio::EventLoop loop(options);
  loop.run_until_complete(stall_spinning_task(std::chrono::milliseconds(50)));
  EXPECT_EQ(loop.metrics().stalls, 0u);
  loop.close();
}

}  // namespace
