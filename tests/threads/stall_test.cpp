// The stall detector (RunOptions::stall_threshold): a step that runs past the threshold is
// reported while it runs, once, and again when it ends; shorter steps are not. Real time: a
// step is a real spin here (virtual time cannot stall a step), with generous bounds.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aio/aio.hpp"

namespace {

std::mutex stall_reports_mutex;
std::vector<aio::StallReport> stall_reports;

void collect_stall(const aio::StallReport& report) {
  std::lock_guard lock(stall_reports_mutex);
  stall_reports.push_back(report);
}

// Busy for `how_long` without giving the loop back. The short sleeps let ThreadSanitizer's
// runtime deliver the watchdog's signal (it holds signals until an intercepted call).
void stall_spin(std::chrono::milliseconds how_long) {
  const auto until = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

// Waits (a few seconds at most) until `n` reports have come: the watchdog reports on its
// own thread, and may still be formatting when the loop has finished.
void stall_wait_for_reports(std::size_t n) {
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(stall_reports_mutex);
      if (stall_reports.size() >= n) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
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
  stall_wait_for_reports(2);
  const aio::LoopMetrics m = loop.metrics();
  loop.close();
  std::lock_guard lock(stall_reports_mutex);
  ASSERT_EQ(stall_reports.size(), 2u);
  const aio::StallReport& during = stall_reports[0];
  EXPECT_FALSE(during.ended);
  EXPECT_EQ(during.loop, &loop);
  EXPECT_EQ(during.task, "Task 'spinner'");
  EXPECT_GE(during.seconds, 0.1);
  EXPECT_LT(during.seconds, 5.0);  // generous: the watchdog may be starved of CPU
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

namespace {

aio::Coro<void> stall_wait_on(aio::Event& event) {
  co_await event.wait();
}

TEST(DebugMode, WarnsOnceWhenTheLoopSleepsWithNothingThatCouldWakeIt) {
  // Real time, with the wait shortened from 10 s; another thread wakes the loop afterwards (it
  // has not called in before, so nothing the loop knows of could wake it).
  setenv("AIO_ASLEEP_WARNING_MS", "50", 1);
  testing::internal::CaptureStderr();
  aio::RunOptions options;
  options.debug = true;
  aio::EventLoop loop(options);
  aio::Event event;
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    loop.call_soon_threadsafe([&] { event.set(); });
  });
  loop.run_until_complete(stall_wait_on(event));
  waker.join();
  loop.close();
  unsetenv("AIO_ASLEEP_WARNING_MS");
  const std::string err = testing::internal::GetCapturedStderr();
  const std::string warning =
      "aio: the loop has slept for 0.05 s with 1 pending task and nothing that could wake it";
  EXPECT_NE(err.find(warning), std::string::npos) << err;
  EXPECT_EQ(err.find(warning), err.rfind(warning)) << "once: " << err;
  EXPECT_NE(err.find("+ Awaiting: Event.wait()"), std::string::npos) << err;
}

}  // namespace
