// Loops on threads (LoopThread, LoopGroup, run_parallel) and calls between them (run_on,
// call_on): values and exceptions cross, cancellation crosses and waits, closed and stopping
// targets are errors, Ctrl+C reaches every loop. In aio_thread_tests: also run under TSan.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <aio/aio.hpp>

namespace {

using namespace std::chrono_literals;

aio::Coro<std::thread::id> thread_of_caller() {
  co_return std::this_thread::get_id();
}

aio::Coro<int> add_on_loop(int a, int b) {
  co_await aio::sleep(0);
  co_return a + b;
}

aio::Coro<int> fail_on_loop() {
  co_await aio::sleep(0);
  throw std::invalid_argument("bad shard");
}

TEST(LoopThread, RunsItsLoopOnItsOwnThreadUntilDestroyed) {
  std::thread::id seen;
  {
    aio::LoopThread worker;
    seen = aio::run_coroutine_threadsafe(thread_of_caller(), worker.loop()).get();
    EXPECT_EQ(seen, worker.thread_id());
    EXPECT_NE(seen, std::this_thread::get_id());
  }
}

TEST(LoopThread, StopCancelsTheTasksLeftAndClosesTheLoop) {
  std::atomic<bool> cleaned_up{false};
  aio::LoopThread worker;
  auto sleeper = [&]() -> aio::Coro<void> {
    try {
      co_await aio::sleep(3600);
    } catch (const aio::CancelledError&) {
      cleaned_up = true;
      throw;
    }
  };
  std::atomic<bool> started{false};
  worker.loop().call_soon_threadsafe([&] {
    (void)worker.loop().create_task(sleeper());
    started = true;
  });
  while (!started) std::this_thread::yield();
  worker.join();
  EXPECT_TRUE(cleaned_up);
  EXPECT_TRUE(worker.loop().is_closed());
  EXPECT_THROW(worker.loop().call_soon_threadsafe([] {}), aio::RuntimeError);
}

TEST(LoopThread, JoinRethrowsWhatEndedTheLoop) {
  aio::LoopThread worker;
  worker.loop().call_soon_threadsafe([] { throw aio::KeyboardInterrupt(); });
  EXPECT_THROW(worker.join(), aio::KeyboardInterrupt);
}

TEST(LoopThread, PinsToACpuOrSaysWhy) {
  aio::LoopThread pinned({.cpu = 0});
  EXPECT_EQ(aio::run_coroutine_threadsafe(add_on_loop(1, 2), pinned.loop()).get(), 3);
  EXPECT_THROW(aio::LoopThread({.cpu = 100000}), std::invalid_argument);
  EXPECT_GE(aio::usable_cpus(), 1);
}

TEST(RunOn, ReturnsTheValueFromTheOtherLoop) {
  aio::LoopThread worker;
  aio::run([&]() -> aio::Coro<void> {
    const int sum = co_await aio::run_on(worker.loop(), add_on_loop(2, 3));
    EXPECT_EQ(sum, 5);
    const std::thread::id where = co_await aio::run_on(worker.loop(), thread_of_caller());
    EXPECT_EQ(where, worker.thread_id());
    EXPECT_EQ(std::this_thread::get_id(), std::this_thread::get_id());
  }());
}

TEST(RunOn, CarriesTheExceptionBack) {
  aio::LoopThread worker;
  aio::run([&]() -> aio::Coro<void> {
    bool caught = false;
    try {
      co_await aio::run_on(worker.loop(), fail_on_loop());
    } catch (const std::invalid_argument& e) {
      caught = std::string(e.what()) == "bad shard";
    }
    EXPECT_TRUE(caught);
  }());
}

TEST(RunOn, OnTheCallersOwnLoopIsATaskAwaitedInPlace) {
  aio::run([]() -> aio::Coro<void> {
    const int sum = co_await aio::run_on(aio::get_running_loop(), add_on_loop(20, 22));
    EXPECT_EQ(sum, 42);
    bool caught = false;
    try {
      co_await aio::run_on(aio::get_running_loop(), fail_on_loop());
    } catch (const std::invalid_argument&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
  }());
}

TEST(RunOn, CancellingTheCallerCancelsTheRemoteTaskAndWaitsForIt) {
  aio::LoopThread worker;
  std::atomic<bool> remote_started{false};
  std::atomic<bool> remote_cleaned{false};
  auto remote = [&]() -> aio::Coro<int> {
    remote_started = true;
    bool cancelled = false;
    try {
      co_await aio::sleep(3600);
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    if (cancelled) {
      aio::current_task()->uncancel();
      co_await aio::sleep(0.01);  // cleanup that takes a while: the caller must wait for it
      remote_cleaned = true;
      throw aio::CancelledError();
    }
    co_return 1;
  };
  aio::run([&]() -> aio::Coro<void> {
    auto call = [&]() -> aio::Coro<int> {
      co_return co_await aio::run_on(worker.loop(), remote());
    };
    aio::Task<int> caller = aio::create_task(call());
    while (!remote_started) co_await aio::sleep(0.001);
    caller.cancel("stop it");
    bool cancelled = false;
    try {
      co_await caller;
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(remote_cleaned);  // the remote task ended before the caller resumed
  }());
}

TEST(RunOn, ARemoteTaskThatDeclinesCancellationGivesItsValue) {
  aio::LoopThread worker;
  std::atomic<bool> remote_started{false};
  auto stubborn = [&]() -> aio::Coro<int> {
    remote_started = true;
    try {
      co_await aio::sleep(3600);
    } catch (const aio::CancelledError&) {
      aio::current_task()->uncancel();
    }
    co_return 7;
  };
  aio::run([&]() -> aio::Coro<void> {
    auto call = [&]() -> aio::Coro<int> {
      co_return co_await aio::run_on(worker.loop(), stubborn());
    };
    aio::Task<int> caller = aio::create_task(call());
    while (!remote_started) co_await aio::sleep(0.001);
    caller.cancel();
    const int value = co_await caller;
    EXPECT_EQ(value, 7);
  }());
}

TEST(RunOn, CancelledBeforeTheRemoteTaskStartsItNeverRuns) {
  aio::LoopThread worker;
  std::atomic<int> runs{0};
  auto counted = [&]() -> aio::Coro<int> {
    ++runs;
    co_return 1;
  };
  aio::run([&]() -> aio::Coro<void> {
    // Hold the worker inside a callback, so that the call and its cancellation wait in its
    // queue together; then cancel the caller.
    std::atomic<bool> held{false}, release{false};
    worker.loop().call_soon_threadsafe([&] {
      held = true;
      while (!release) std::this_thread::yield();
    });
    while (!held) std::this_thread::yield();
    auto call = [&]() -> aio::Coro<int> {
      co_return co_await aio::run_on(worker.loop(), counted());
    };
    aio::Task<int> caller = aio::create_task(call());
    co_await aio::sleep(0);
    caller.cancel();
    release = true;
    bool cancelled = false;
    try {
      co_await caller;
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
  }());
  EXPECT_EQ(runs.load(), 0);
}

TEST(RunOn, AClosedOrStoppingTargetIsAnError) {
  auto closed = aio::new_event_loop();
  closed->close();
  aio::LoopThread stopping;
  stopping.stop();
  aio::run([&]() -> aio::Coro<void> {
    std::string first, second;
    try {
      co_await aio::run_on(*closed, add_on_loop(1, 1));
    } catch (const aio::RuntimeError& e) {
      first = e.what();
    }
    try {
      co_await aio::run_on(stopping.loop(), add_on_loop(1, 1));
    } catch (const aio::RuntimeError& e) {
      second = e.what();
    }
    EXPECT_EQ(first, "run_on(): the target event loop is closed");
    EXPECT_TRUE(second.find("run_on(): the target event loop is") == 0) << second;
  }());
}

// A target loop closed (not shut down: its tasks abandoned) while a call is out.
TEST(RunOn, ATargetClosedWhileTheCallIsOutEndsItWithAnError) {
  auto target = aio::new_event_loop();
  std::atomic<bool> started{false};
  std::thread runner([&] { target->run_forever(); });
  auto forever = [&]() -> aio::Coro<int> {
    started = true;
    co_await aio::sleep(3600);
    co_return 0;
  };
  aio::run([&]() -> aio::Coro<void> {
    auto stop_then_close = [&]() -> aio::Coro<void> {
      while (!started) co_await aio::sleep(0.001);
      target->stop();
      runner.join();
      target->close();
    };
    aio::Task<void> closer = aio::create_task(stop_then_close());
    std::string error;
    try {
      co_await aio::run_on(*target, forever());
    } catch (const aio::RuntimeError& e) {
      error = e.what();
    }
    co_await closer;
    EXPECT_EQ(error, "run_on(): the target event loop closed before the task finished");
  }());
}

TEST(RunOn, CallsFromFourLoopsToOneUnderContention) {
  aio::LoopThread target;
  std::atomic<long> total{0};
  int counter = 0;  // the target's: only its thread touches it
  auto bump = [&counter](int by) -> aio::Coro<int> {
    counter += by;
    co_return counter;
  };
  aio::LoopGroup callers(4);
  std::vector<std::future<void>> done;
  auto calls = [&]() -> aio::Coro<void> {
    for (int k = 0; k < 500; ++k) {
      (void)co_await aio::run_on(target.loop(), bump(1));
      total += 1;
    }
  };
  for (std::size_t i = 0; i < callers.size(); ++i) {
    done.push_back(aio::run_coroutine_threadsafe(calls(), callers[i]));
  }
  for (auto& d : done) d.get();
  EXPECT_EQ(total.load(), 2000);
  EXPECT_EQ(aio::run_coroutine_threadsafe(bump(0), target.loop()).get(), 2000);
}

TEST(CallOn, RunsTheFunctionOnTheOtherLoop) {
  aio::LoopThread worker;
  aio::run([&]() -> aio::Coro<void> {
    auto where = [] { return std::this_thread::get_id(); };
    const std::thread::id id = co_await aio::call_on(worker.loop(), where);
    EXPECT_EQ(id, worker.thread_id());
    auto fails = []() -> int { throw std::out_of_range("nope"); };
    bool caught = false;
    try {
      co_await aio::call_on(worker.loop(), fails);
    } catch (const std::out_of_range&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
    int on_own_loop = 0;
    auto set = [&] { on_own_loop = 1; };
    co_await aio::call_on(aio::get_running_loop(), set);
    EXPECT_EQ(on_own_loop, 1);
  }());
}

TEST(RunParallel, ReturnsEveryShardsResultInOrder) {
  const std::vector<int> results = aio::run_parallel(3, [](int shard) -> aio::Coro<int> {
    co_await aio::sleep(0.001 * (3 - shard));
    co_return shard * 10;
  });
  EXPECT_EQ(results, (std::vector<int>{0, 10, 20}));
}

TEST(RunParallel, AShardReachesTheOthersThroughTheGroup) {
  std::atomic<int> sum{0};
  aio::run_parallel(2, [&](int shard, aio::LoopGroup& group) -> aio::Coro<void> {
    EXPECT_EQ(group.index_here(), shard);
    const int other =
        co_await aio::run_on(group[1 - static_cast<std::size_t>(shard)], add_on_loop(shard, 100));
    sum += other;
  });
  EXPECT_EQ(sum.load(), 201);
}

TEST(RunParallel, AFailureCancelsTheOtherShardsAndRaisesAnExceptionGroup) {
  std::atomic<bool> other_cancelled{false};
  bool grouped = false;
  try {
    aio::run_parallel(2, [&](int shard) -> aio::Coro<int> {
      if (shard == 0) {
        co_await aio::sleep(0.01);
        throw std::invalid_argument("shard 0 failed");
      }
      try {
        co_await aio::sleep(3600);
      } catch (const aio::CancelledError&) {
        other_cancelled = true;
        throw;
      }
      co_return 1;
    });
  } catch (const aio::ExceptionGroup& e) {
    grouped = e.exceptions().size() == 1;
  }
  EXPECT_TRUE(grouped);
  EXPECT_TRUE(other_cancelled);
  EXPECT_THROW(aio::run_parallel(-1, [](int) -> aio::Coro<void> { co_return; }),
               std::invalid_argument);
}

// Ctrl+C with several loops: every shard's task is cancelled, and run_parallel() throws one
// KeyboardInterrupt. In a child process, told when it is ready through a pipe.
TEST(RunParallel, CtrlCCancelsEveryShardAndEndsInOneKeyboardInterrupt) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    std::atomic<int> cancelled{0}, started{0};
    int status = 3;
    try {
      aio::run_parallel(3, [&](int) -> aio::Coro<void> {
        if (++started == 3) (void)!::write(ready[1], "r", 1);
        try {
          co_await aio::sleep(3600);
        } catch (const aio::CancelledError&) {
          ++cancelled;
          throw;
        }
      });
    } catch (const aio::KeyboardInterrupt&) {
      status = cancelled == 3 ? 42 : 1;
    } catch (...) {
      status = 2;
    }
    ::_exit(status);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
}

}  // namespace
