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

// Runs `body` in a child process and sends it `sigints` SIGINTs, the first after
// `send_sigint_after_ms`, then one every `gap_ms`; returns its exit status.
template <class F>
int in_child(F body, int send_sigint_after_ms, int sigints = 1, int gap_ms = 0) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  std::this_thread::sleep_for(std::chrono::milliseconds(send_sigint_after_ms));
  for (int i = 0; i < sigints; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
    ::kill(pid, SIGINT);
  }
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

// test_runners test_interrupt_cancelled_task: a subtask cancels the main task, then SIGINT
// arrives. The main task's cancellation is not Ctrl+C's doing: run() ends in CancelledError.
TEST(Signals, CtrlCAfterTheMainTaskWasCancelledEndsInCancelledError) {
  const int status = in_child(
      [] {
        try {
          aio::run([]() -> aio::Coro<void> {
            auto subtask = [](aio::TaskRef main) -> aio::Coro<void> {
              co_await aio::sleep(0);
              main.cancel();
              ::raise(SIGINT);
            };
            aio::create_task(subtask(*aio::current_task()));
            co_await aio::sleep(10);
          }());
        } catch (const aio::CancelledError&) {
          return 42;
        } catch (const aio::KeyboardInterrupt&) {
          return 1;
        } catch (...) {
          return 2;
        }
        return 3;
      },
      0, 0);
  EXPECT_EQ(status, 42);
}

// asyncio's Runner: the first Ctrl+C cancels the main task; a second one, while the task is
// still cleaning up, ends run() in KeyboardInterrupt at once.
TEST(Signals, ASecondCtrlCDuringCleanupIsKeyboardInterrupt) {
  const int status = in_child(
      [] {
        bool cleanup_started = false;
        try {
          aio::run([&]() -> aio::Coro<void> {
            bool cancelled = false;
            try {
              co_await aio::sleep(30);
            } catch (const aio::CancelledError&) {
              cancelled = true;
            }
            if (cancelled) {
              cleanup_started = true;
              co_await aio::sleep(30);  // a slow cleanup
            }
          }());
        } catch (const aio::KeyboardInterrupt&) {
          return cleanup_started ? 42 : 1;
        } catch (...) {
          return 2;
        }
        return 3;
      },
      200, 2, 300);
  EXPECT_EQ(status, 42);
}

// A burst of Ctrl+Cs: the first cancels the main task, the ones that come while it cleans up
// end run() in one KeyboardInterrupt, and nothing aborts. (The child sends them itself, so
// that none comes after run() has given SIGINT its default action back.)
TEST(Signals, ABurstOfCtrlCsIsOneKeyboardInterrupt) {
  const int status = in_child(
      [] {
        try {
          aio::run([]() -> aio::Coro<void> {
            ::raise(SIGINT);
            try {
              co_await aio::sleep(30);
            } catch (const aio::CancelledError&) {
              // a slow cleanup follows, interrupted by the rest of the burst
            }
            for (int i = 0; i < 49; ++i) ::raise(SIGINT);
            co_await aio::sleep(30);
          }());
        } catch (const aio::KeyboardInterrupt&) {
          return 42;
        } catch (...) {
          return 2;
        }
        return 3;
      },
      0, 0);
  EXPECT_EQ(status, 42);
}

}  // namespace
