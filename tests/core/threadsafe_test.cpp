// The loop's thread-safe entry points: call_soon_threadsafe() and stop() from other threads.
// Built as their own executable, labelled "threads", so CI also runs them under TSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
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

}  // namespace
