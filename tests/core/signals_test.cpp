// Signals: add_signal_handler, and Ctrl+C (SIGINT) in run() tested on a real child process.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <aio/aio.hpp>

namespace {

TEST(Signals, AHandlerRunsAsALoopCallback) {
  aio::run([]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    int got = 0;
    loop.add_signal_handler(SIGUSR1, [&] { ++got; });
    ::raise(SIGUSR1);
    EXPECT_EQ(got, 0);  // never inside the signal handler
    while (got == 0) co_await aio::sleep(0.001);
    EXPECT_EQ(got, 1);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_THROW(loop.add_signal_handler(SIGKILL, [] {}), aio::RuntimeError);
    EXPECT_THROW(loop.add_signal_handler(0, [] {}), std::invalid_argument);
  }());
}

// Runs `body` in a child process; returns its exit status.
template <class F>
int in_child(F body, int send_sigint_after_ms) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  std::this_thread::sleep_for(std::chrono::milliseconds(send_sigint_after_ms));
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(Signals, CtrlCCancelsTheMainTaskAndRunThrowsKeyboardInterrupt) {  // RUN-09
  const int status = in_child(
      [] {
        bool main_saw_cancel = false;
        try {
          aio::run([&]() -> aio::Coro<void> {
            try {
              co_await aio::sleep(30);
            } catch (const aio::CancelledError&) {
              main_saw_cancel = true;
              throw;
            }
          }());
        } catch (const aio::KeyboardInterrupt&) {
          return main_saw_cancel ? 42 : 1;
        } catch (...) {
          return 2;
        }
        return 3;
      },
      200);
  EXPECT_EQ(status, 42);
}

TEST(Signals, CtrlCWhileBusyYielding) {  // RUN-09: a main task looping on sleep(0)
  const int status = in_child(
      [] {
        try {
          aio::run([]() -> aio::Coro<void> {
            for (;;) co_await aio::sleep(0);
          }());
        } catch (const aio::KeyboardInterrupt&) {
          return 42;
        } catch (...) {
          return 2;
        }
        return 3;
      },
      200);
  EXPECT_EQ(status, 42);
}

}  // namespace
