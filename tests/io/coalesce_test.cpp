// RunOptions::coalesce: on io_uring (Linux 6.12 or later) a loop that sleeps for I/O wakes once
// `coalesce_events` operations have completed, or once the window has passed with one. Timers
// must stay on time, nothing may be lost or left waiting past the window, and everywhere the
// kernel cannot coalesce (epoll, older kernels, virtual time) the option must change nothing.
// Built into aio_thread_tests: the peers here are other threads.
#include <gtest/gtest.h>
#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <aio/aio.hpp>

#include "support/loop_peers.hpp"

namespace {

using namespace std::chrono_literals;
using aio::testing::blocking_client;
using aio::testing::echo_once;
using aio::testing::sleep_with_a_listener;
using aio::testing::wait_with_a_listener;

constexpr auto long_window = 10s;
constexpr double well_inside_long_window = 5.0;

aio::RunOptions options(aio::Backend backend, aio::Duration window, unsigned events = 32) {
  aio::RunOptions o;
  o.backend = backend;
  o.coalesce = window;
  o.coalesce_events = events;
  return o;
}

// Whether a loop on `backend` coalesces here: io_uring is allowed and has the minimum wait
// (IORING_FEAT_MIN_TIMEOUT). Asked of the kernel directly, not of aio.
bool kernel_coalesces(aio::Backend backend) {
  const char* env = std::getenv("AIO_BACKEND");
  if (backend == aio::Backend::epoll || (env && std::string(env) == "epoll")) return false;
#ifdef AIO_HAVE_URING
  io_uring_params params{};
  const long fd = ::syscall(__NR_io_uring_setup, 4, &params);
  if (fd < 0) return false;
  ::close(static_cast<int>(fd));
  constexpr unsigned feat_min_timeout = 1U << 15;
  return (params.features & feat_min_timeout) != 0;
#else
  return false;
#endif
}

// Another thread calls in 20 ms later, once the loop sleeps (a call that came before the loop
// went to sleep would make it poll without waiting); gives back how long the loop took to run
// the call.
double seconds_to_see_another_thread(aio::EventLoop& loop) {
  const double start = loop.time();
  std::thread other;
  loop.run_until_complete(wait_with_a_listener([&](aio::Future<void>& done) {
    other = std::thread([&] {
      std::this_thread::sleep_for(20ms);
      loop.call_soon_threadsafe([&] { done.set_result(); });
    });
  }));
  other.join();
  return loop.time() - start;
}

class Coalesce : public testing::TestWithParam<aio::Backend> {};

TEST_P(Coalesce, ATimerDueWithinTheWindowIsOnTime) {
  aio::EventLoop loop(options(GetParam(), long_window));
  const double slept = loop.run_until_complete(sleep_with_a_listener(0.02));
  EXPECT_GE(slept, 0.02);
  EXPECT_LT(slept, well_inside_long_window);
  loop.close();
}

TEST_P(Coalesce, ATimerDueAfterTheWindowIsOnTime) {
  aio::EventLoop loop(options(GetParam(), 20ms));
  const double slept = loop.run_until_complete(sleep_with_a_listener(0.1));
  EXPECT_GE(slept, 0.1);
  EXPECT_LT(slept, well_inside_long_window);
  loop.close();
}

TEST_P(Coalesce, EveryConnectionIsServed) {
  // Sixteen clients at once, waiting for batches of four: each is echoed, whether its
  // completions fill a batch or wait out the window.
  aio::EventLoop loop(options(GetParam(), 50ms, 4));
  auto serve = [](int clients) -> aio::Coro<std::vector<std::string>> {
    const aio::ClientConnected handler = aio::testing::echo_line;
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    aio::EventLoop& running = aio::get_running_loop();
    std::vector<std::string> replies(static_cast<std::size_t>(clients));
    std::atomic<int> left{clients};
    aio::Future<void> all_done = running.create_future<void>();
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i, port = server.port()] {
        replies[static_cast<std::size_t>(i)] = blocking_client(port, 5ms);
        if (--left == 0) running.call_soon_threadsafe([&] { all_done.set_result(); });
      });
    }
    co_await all_done;
    for (std::thread& t : threads) t.join();
    server.close();
    co_await server.wait_closed();
    co_return replies;
  };
  for (const std::string& reply : loop.run_until_complete(serve(16))) EXPECT_EQ(reply, "ping\n");
  loop.close();
}

TEST_P(Coalesce, DataAfterALongIdleIsReadAtOnce) {
  // The window passes with nothing done; from then on the first completion ends the wait (the
  // loop must not sleep on towards its hour-long fallback timeout).
  aio::EventLoop loop(options(GetParam(), 20ms));
  const double start = loop.time();
  EXPECT_EQ(loop.run_until_complete(echo_once(200ms)), "ping\n");
  EXPECT_LT(loop.time() - start, well_inside_long_window);
  loop.close();
}

TEST_P(Coalesce, ASignalInterruptsTheWait) {
  aio::EventLoop loop(options(GetParam(), long_window));
  std::atomic<bool> handled{false};
  std::thread other;
  const double start = loop.time();
  loop.run_until_complete(wait_with_a_listener([&](aio::Future<void>& done) {
    loop.add_signal_handler(SIGUSR1, [&] {
      handled = true;
      done.set_result();
    });
    other = std::thread([] {
      std::this_thread::sleep_for(20ms);  // once the loop waits: the signal must interrupt it
      ::kill(::getpid(), SIGUSR1);
    });
  }));
  loop.remove_signal_handler(SIGUSR1);
  other.join();
  EXPECT_TRUE(handled);
  EXPECT_LT(loop.time() - start, well_inside_long_window);
  loop.close();
}

TEST_P(Coalesce, ALoneCompletionWaitsOutTheWindowOnlyWhereTheKernelCoalesces) {
  // One completion (another thread's call) and a batch of two: the kernel holds it for the
  // whole window where it can coalesce; elsewhere the loop runs it at once.
  constexpr double window = 0.5;
  aio::EventLoop loop(options(GetParam(), aio::Duration(window), 2));
  const double took = seconds_to_see_another_thread(loop);
  if (kernel_coalesces(GetParam())) {
    EXPECT_GE(took, window * 0.99) << "the kernel did not hold the completion";
  } else {
    EXPECT_LT(took, window / 2) << "a loop that cannot coalesce waited anyway";
  }
  loop.close();
}

TEST_P(Coalesce, ABatchOfOneIsNoCoalescing) {
  aio::EventLoop loop(options(GetParam(), long_window, 1));
  EXPECT_LT(seconds_to_see_another_thread(loop), well_inside_long_window);
  loop.close();
}

INSTANTIATE_TEST_SUITE_P(Backends, Coalesce,
                         testing::Values(aio::Backend::automatic, aio::Backend::epoll),
                         [](const testing::TestParamInfo<aio::Backend>& info) {
                           return info.param == aio::Backend::epoll ? "epoll" : "automatic";
                         });

TEST(CoalesceOption, IsOffUnderVirtualTime) {
  aio::RunOptions o = options(aio::Backend::automatic, long_window);
  o.virtual_time = true;
  o.debug = true;
  testing::internal::CaptureStderr();
  aio::EventLoop loop(o);
  const std::string said = testing::internal::GetCapturedStderr();
  EXPECT_NE(said.find("aio: Completion coalescing is off: the clock is virtual"), std::string::npos)
      << said;
  // The virtual clock jumps only when the loop is idle; a held wait would stall it.
  EXPECT_EQ(loop.run_until_complete(sleep_with_a_listener(100)), 100);
  loop.close();
}

TEST(CoalesceOption, DebugModeSaysWhetherItIsOn) {
  for (const aio::Backend backend : {aio::Backend::automatic, aio::Backend::epoll}) {
    aio::RunOptions o = options(backend, 100us, 16);
    o.debug = true;
    testing::internal::CaptureStderr();
    { aio::EventLoop loop(o); }
    const std::string said = testing::internal::GetCapturedStderr();
    if (kernel_coalesces(backend)) {
      EXPECT_NE(said.find("aio: Coalescing completions: 16, or 100 us with one\n"),
                std::string::npos)
          << said;
    } else {
      EXPECT_NE(said.find("aio: Completion coalescing is off: "), std::string::npos) << said;
    }
  }
}

// Making a loop with `variable=value` in the environment is a RuntimeError that names it.
void expect_rejected(const char* variable, const char* value) {
  ::setenv(variable, value, 1);
  try {
    aio::EventLoop loop;
    ADD_FAILURE() << variable << "=" << value << " was accepted";
  } catch (const aio::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find(variable), std::string::npos) << e.what();
  }
}

TEST(CoalesceOption, ComesFromTheEnvironment) {
  ::setenv("AIO_COALESCE_US", "250", 1);
  ::setenv("AIO_COALESCE_EVENTS", "8", 1);
  {
    testing::internal::CaptureStderr();
    aio::EventLoop loop(aio::RunOptions{.debug = true});
    const std::string said = testing::internal::GetCapturedStderr();
    if (kernel_coalesces(aio::Backend::automatic)) {
      EXPECT_NE(said.find("Coalescing completions: 8, or 250 us with one"), std::string::npos)
          << said;
    }
    EXPECT_EQ(loop.run_until_complete(echo_once(5ms)), "ping\n");
    loop.close();
  }
  for (const char* good : {"0", "1e30"}) {  // off; the longest window the kernel takes
    ::setenv("AIO_COALESCE_US", good, 1);
    aio::EventLoop loop;
    EXPECT_GE(loop.run_until_complete(sleep_with_a_listener(0.01)), 0.01) << good;
    loop.close();
  }
  for (const char* bad : {"soon", "-5", "10us", "nan"}) expect_rejected("AIO_COALESCE_US", bad);
  ::setenv("AIO_COALESCE_US", "100", 1);
  for (const char* bad : {"0", "-1", "many", "2000000", "4x"}) {
    expect_rejected("AIO_COALESCE_EVENTS", bad);
  }
  ::unsetenv("AIO_COALESCE_US");
  ::unsetenv("AIO_COALESCE_EVENTS");
}

}  // namespace
