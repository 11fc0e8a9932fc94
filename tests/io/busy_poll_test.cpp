// RunOptions::busy_poll: before sleeping for I/O the loop polls without blocking for a while.
// It must still see data, timers, other threads and signals at once, sleep when the window is over,
// and stay off under virtual time. Each case runs on `automatic` (io_uring where the kernel
// allows it) and on epoll. Built into aio_thread_tests: the peers here are other threads.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include <aio/aio.hpp>

#include "support/loop_peers.hpp"

namespace {

using namespace std::chrono_literals;
using aio::testing::echo_once;
using aio::testing::sleep_with_a_listener;
using aio::testing::thread_cpu_seconds;
using aio::testing::wait_with_a_listener;

// A window far longer than any case: if the loop spun it out, the case would take 10 s.
constexpr auto long_window = 10s;
constexpr double well_inside_window = 5.0;

aio::RunOptions options(aio::Backend backend, aio::Duration busy_poll) {
  aio::RunOptions o;
  o.backend = backend;
  o.busy_poll = busy_poll;
  return o;
}

class BusyPoll : public testing::TestWithParam<aio::Backend> {};

TEST_P(BusyPoll, DataThatArrivesWhileItPollsIsReadAtOnce) {
  aio::EventLoop loop(options(GetParam(), long_window));
  const double start = loop.time();
  EXPECT_EQ(loop.run_until_complete(echo_once(20ms)), "ping\n");
  EXPECT_LT(loop.time() - start, well_inside_window);
  loop.close();
}

TEST_P(BusyPoll, ATimerThatComesDueEndsThePolling) {
  aio::EventLoop loop(options(GetParam(), long_window));
  const double slept = loop.run_until_complete(sleep_with_a_listener(0.02));
  EXPECT_GE(slept, 0.02);
  EXPECT_LT(slept, well_inside_window);
  loop.close();
}

TEST_P(BusyPoll, CallSoonThreadsafeEndsThePolling) {
  aio::EventLoop loop(options(GetParam(), long_window));
  const double start = loop.time();
  std::atomic<bool> called{false};
  std::thread other;
  loop.run_until_complete(wait_with_a_listener([&](aio::Future<void>& done) {
    other = std::thread([&] {
      std::this_thread::sleep_for(20ms);
      loop.call_soon_threadsafe([&] {
        called = true;
        done.set_result();
      });
    });
  }));
  other.join();
  EXPECT_TRUE(called);
  EXPECT_LT(loop.time() - start, well_inside_window);
  loop.close();
}

TEST_P(BusyPoll, ASignalEndsThePolling) {
  aio::EventLoop loop(options(GetParam(), long_window));
  const double start = loop.time();
  std::atomic<bool> handled{false};
  std::thread other;
  loop.run_until_complete(wait_with_a_listener([&](aio::Future<void>& done) {
    loop.add_signal_handler(SIGUSR1, [&] {
      handled = true;
      done.set_result();
    });
    other = std::thread([] {
      std::this_thread::sleep_for(20ms);
      ::kill(::getpid(), SIGUSR1);
    });
  }));
  loop.remove_signal_handler(SIGUSR1);
  other.join();
  EXPECT_TRUE(handled);
  EXPECT_LT(loop.time() - start, well_inside_window);
  loop.close();
}

TEST_P(BusyPoll, TheLoopPollsInsteadOfSleepingWithinTheWindow) {
  // The converse: a client that sends after 100 ms, inside a 10 s window. The loop thread
  // stays on the CPU while it waits (a fifth of the time is enough to tell it from sleeping,
  // and leaves room for being descheduled on a busy machine).
  aio::EventLoop loop(options(GetParam(), long_window));
  const double cpu_before = thread_cpu_seconds();
  EXPECT_EQ(loop.run_until_complete(echo_once(100ms)), "ping\n");
  const double cpu = thread_cpu_seconds() - cpu_before;
  EXPECT_GT(cpu, 0.02) << "the loop slept instead of polling";
  loop.close();
}

TEST_P(BusyPoll, TheLoopSleepsOnceTheWindowIsOver) {
  // A 1 ms window and a client that sends after 300 ms: the loop must sleep in the kernel
  // for most of that time rather than spin, and still wake for the data.
  aio::EventLoop loop(options(GetParam(), 1ms));
  const double cpu_before = thread_cpu_seconds();
  EXPECT_EQ(loop.run_until_complete(echo_once(300ms)), "ping\n");
  const double cpu = thread_cpu_seconds() - cpu_before;
  EXPECT_LT(cpu, 0.15) << "the loop spun instead of sleeping";
  loop.close();
}

INSTANTIATE_TEST_SUITE_P(Backends, BusyPoll,
                         testing::Values(aio::Backend::automatic, aio::Backend::epoll),
                         [](const testing::TestParamInfo<aio::Backend>& info) {
                           return info.param == aio::Backend::epoll ? "epoll" : "automatic";
                         });

TEST(BusyPollOption, IsOffUnderVirtualTime) {
  aio::RunOptions o = options(aio::Backend::automatic, long_window);
  o.virtual_time = true;
  aio::EventLoop loop(o);
  // On virtual time the clock only moves when the loop is idle: a spin would never end.
  EXPECT_EQ(loop.run_until_complete(sleep_with_a_listener(100)), 100);
  loop.close();
}

TEST(BusyPollOption, ComesFromTheEnvironment) {
  for (const char* good : {"1000", "1e30", "inf"}) {  // the last two: poll until work comes
    ::setenv("AIO_BUSY_POLL_US", good, 1);
    aio::EventLoop loop;
    EXPECT_EQ(loop.run_until_complete(echo_once(5ms)), "ping\n") << good;
    loop.close();
  }
  for (const char* bad : {"fast", "-5", "10us", "nan"}) {
    ::setenv("AIO_BUSY_POLL_US", bad, 1);
    try {
      aio::EventLoop loop;
      ADD_FAILURE() << "AIO_BUSY_POLL_US=" << bad << " was accepted";
    } catch (const aio::RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find("AIO_BUSY_POLL_US"), std::string::npos) << e.what();
    }
  }
  ::unsetenv("AIO_BUSY_POLL_US");
}

}  // namespace
