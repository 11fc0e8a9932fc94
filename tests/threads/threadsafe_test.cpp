// The loop's thread-safe entry points: call_soon_threadsafe() and stop() from other threads.
// Built as their own executable, labelled "threads", so CI also runs them under TSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <aio/aio.hpp>

namespace {

TEST(Threadsafe, CallSoonThreadsafeWakesTheLoop) {
  aio::EventLoop loop;  // real time: the loop blocks in epoll until the other thread calls
  std::atomic<int> calls{0};
  std::thread other([&] {
    for (int i = 0; i < 100; ++i) loop.call_soon_threadsafe([&] { calls.fetch_add(1); });
    loop.call_soon_threadsafe([&] { loop.stop(); });
  });
  loop.run_forever();
  other.join();
  EXPECT_EQ(calls.load(), 100);
}

// A post wakes the loop (an eventfd write) only if it sleeps: a thousand posts to a loop that
// is busy the whole time write none, and a burst to a sleeping loop far fewer than one each.
TEST(Threadsafe, PostsToABusyLoopWakeNothing) {
  aio::EventLoop loop;
  int calls = 0;
  loop.call_soon([&] {
    std::thread poster([&] {
      for (int i = 0; i < 1000; ++i) {
        loop.call_soon_threadsafe([&] {
          if (++calls == 1000) loop.stop();
        });
      }
    });
    poster.join();  // the loop is inside this callback, awake, all along
  });
  loop.run_forever();
  EXPECT_EQ(calls, 1000);
  EXPECT_EQ(loop.metrics().wakeups, 0u);
}

TEST(Threadsafe, ABurstOfPostsToASleepingLoopWakesItOncePerBatch) {
  aio::EventLoop loop;  // no busy polling: between batches it sleeps in the backend
  std::atomic<int> calls{0};
  std::atomic<bool> asleep_soon{false};
  loop.call_soon([&] { asleep_soon = true; });
  std::thread poster([&] {
    while (!asleep_soon) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the loop is asleep by now
    for (int i = 0; i < 1000; ++i) {
      loop.call_soon_threadsafe([&] {
        if (++calls == 1000) loop.stop();
      });
    }
  });
  loop.run_forever();
  poster.join();
  EXPECT_EQ(calls.load(), 1000);
  const std::uint64_t wakeups = loop.metrics().wakeups;
  EXPECT_GE(wakeups, 1u);
  EXPECT_LE(wakeups, 500u) << "a post per wake-up: the batching is gone";
}

TEST(Threadsafe, StopFromAnotherThread) {
  aio::EventLoop loop;
  std::atomic<bool> started{false};
  loop.call_soon([&] { started = true; });
  std::thread other([&] {
    while (!started) std::this_thread::yield();
    loop.stop();
  });
  loop.run_forever();  // would block forever without the cross-thread wake-up
  other.join();
  SUCCEED();
}

TEST(Threadsafe, CallSoonThreadsafeFromManyThreadsKeepsEachThreadsOrder) {
  aio::EventLoop loop;
  constexpr int threads = 4, calls = 1000;
  std::vector<std::vector<int>> seen(threads);
  std::atomic<int> finished{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < calls; ++i)
        loop.call_soon_threadsafe([&, t, i] { seen[t].push_back(i); });
      loop.call_soon_threadsafe([&] {
        if (++finished == threads) loop.stop();
      });
    });
  }
  loop.run_forever();
  for (auto& w : workers) w.join();
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(seen[t].size(), static_cast<std::size_t>(calls));
    EXPECT_TRUE(std::is_sorted(seen[t].begin(), seen[t].end()));
  }
}

TEST(Threads, ToThreadRunsOnAWorkerWithoutBlockingTheLoop) {
  aio::run([]() -> aio::Coro<void> {
    const auto loop_thread = std::this_thread::get_id();
    int ticks = 0;
    auto ticker = [&]() -> aio::Coro<void> {
      for (;;) {
        ++ticks;
        co_await aio::sleep(0.001);
      }
    };
    auto t = aio::create_task(ticker());
    auto worker_thread = co_await aio::to_thread([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return std::this_thread::get_id();
    });
    EXPECT_NE(worker_thread, loop_thread);
    EXPECT_GT(ticks, 5);  // the loop kept running meanwhile
    t.cancel();
    EXPECT_EQ(co_await aio::to_thread([](int a, int b) { return a + b; }, 2, 3), 5);
    EXPECT_THROW(co_await aio::to_thread([] { throw std::runtime_error("in a thread"); }),
                 std::runtime_error);
  }());
}

TEST(Threads, RunInExecutorWithACustomExecutor) {
  aio::run([]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    aio::ThreadPoolExecutor pool(2);
    std::atomic<int> ran{0};
    std::vector<aio::Future<int>> fs;
    for (int i = 0; i < 20; ++i) {
      fs.push_back(loop.run_in_executor(&pool, [i, &ran] {
        ++ran;
        return i * i;
      }));
    }
    auto squares = co_await aio::gather(fs);
    EXPECT_EQ(ran.load(), 20);
    EXPECT_EQ(squares.at(19), 361);
    loop.set_default_executor(std::make_shared<aio::ThreadPoolExecutor>(1));
    co_await loop.run_in_executor(nullptr, [] {});
    co_await loop.shutdown_default_executor();
    EXPECT_THROW(loop.run_in_executor(nullptr, [] {}), aio::RuntimeError);
  }());
}

// concurrent.futures: a job whose future is cancelled before a worker takes it never runs
// (asyncio chains the cancellation to the pool's future); one already running is not stopped.
TEST(Threads, RunInExecutorSkipsAJobCancelledBeforeItStarts) {
  aio::run([]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    aio::ThreadPoolExecutor pool(1);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> first_ran{false}, second_ran{false};
    auto first = loop.run_in_executor(&pool, [&, released] {
      first_ran = true;
      released.wait();
      return 1;
    });
    auto second = loop.run_in_executor(&pool, [&] { second_ran = true; });
    while (!first_ran) co_await aio::sleep(0.001);
    EXPECT_TRUE(second.cancel());
    EXPECT_TRUE(first.cancel());  // running: its future is cancelled, the job goes on
    co_await aio::sleep(0);       // the cancellation reaches the job
    release.set_value();
    pool.shutdown(true);  // every job the pool took has returned
    EXPECT_FALSE(second_ran);
    EXPECT_TRUE(second.cancelled());
    EXPECT_TRUE(first.cancelled());
  }());
}

// asyncio 3.12: shutdown_default_executor(timeout) stops waiting for a worker that is stuck,
// warns and returns; the worker finishes later on its own (and the loop, like Python at exit,
// waits for it before it goes).
TEST(Threads, ShutdownDefaultExecutorGivesUpAfterItsTimeout) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> job_done{false};
  testing::internal::CaptureStderr();
  aio::run([&]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    auto stuck = loop.run_in_executor(nullptr, [&, released] {
      released.wait();
      job_done = true;
    });
    co_await aio::sleep(0.01);
    co_await loop.shutdown_default_executor(0.05);
    EXPECT_FALSE(job_done);  // it returned while the job still ran
    release.set_value();
    co_await stuck;  // the job still reports to the loop
    EXPECT_TRUE(job_done);
  }());
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("RuntimeWarning: The executor did not finishing joining its threads within "
                     "0.05 seconds."),
            std::string::npos)
      << err;
}

TEST(Threads, RunCoroutineThreadsafeFromAnotherThread) {
  aio::EventLoop loop;
  std::thread other([&] {
    auto answer = [](int x) -> aio::Coro<int> {
      co_await aio::sleep(0.01);
      co_return x * 2;
    };
    std::future<int> f = aio::run_coroutine_threadsafe(answer(21), loop);
    EXPECT_EQ(f.get(), 42);
    auto fails = []() -> aio::Coro<void> {
      throw std::runtime_error("inside the loop");
      co_return;
    };
    std::future<void> g = aio::run_coroutine_threadsafe(fails(), loop);
    EXPECT_THROW(g.get(), std::runtime_error);
    loop.call_soon_threadsafe([&] { loop.stop(); });
  });
  loop.run_forever();
  other.join();
}

TEST(Threads, GetaddrinfoResolvesOnTheDefaultExecutor) {
  // Names resolve on a worker thread and come back through call_soon_threadsafe: many at
  // once, so ThreadSanitizer sees the hand-over under load.
  aio::run([]() -> aio::Coro<void> {
    std::vector<aio::Coro<std::vector<aio::AddressInfo>>> lookups;
    for (int i = 0; i < 16; ++i) lookups.push_back(aio::getaddrinfo("localhost", 1000 + i));
    auto results = co_await aio::gather(std::move(lookups));
    for (std::size_t i = 0; i < results.size(); ++i) {
      EXPECT_FALSE(results[i].empty());
      if (!results[i].empty()) {
        EXPECT_EQ(results[i].front().address.port(), 1000 + i);
      }
    }
  }());
}

// Each to_thread() call runs in its own copy of the caller's context, on whichever worker takes
// it: workers see the caller's value, and what they set stays in their copy.
TEST(Threads, ToThreadCarriesTheContextAcross) {
  aio::ContextVar<int> request("request", 0);
  auto body = [&]() -> aio::Coro<void> {
    std::vector<aio::Task<int>> calls;
    for (int i = 0; i < 8; ++i) {
      request.set(i);  // each task copies the context as it is created
      calls.push_back(aio::create_task(aio::to_thread([&request] {
        const int seen = request.get();
        request.set(-1);
        return seen;
      })));
    }
    request.set(100);
    const std::vector<int> seen = co_await aio::gather(calls);
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(request.get(), 100);
  };
  aio::run(body());
}

}  // namespace
