// Channel, Watch and Broadcast: within one loop (asyncio.Queue's rules), across loops and
// plain threads, under contention, with cancellation and close(). In aio_thread_tests: also
// run under TSan.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <aio/aio.hpp>

namespace {

TEST(Channel, IsAFifoThatWaitsWhenFullAndWhenEmpty) {
  aio::run([]() -> aio::Coro<void> {
    aio::Channel<int> ch(2);
    EXPECT_EQ(ch.capacity(), 2u);
    co_await ch.send(1);
    co_await ch.send(2);
    EXPECT_TRUE(ch.full());
    EXPECT_FALSE(ch.try_send(3));
    std::vector<int> order;
    auto third = [&]() -> aio::Coro<void> {
      co_await ch.send(3);  // waits for room
      order.push_back(-3);
    };
    aio::Task<void> sender = aio::create_task(third());
    co_await aio::sleep(0);
    EXPECT_FALSE(sender.done());
    order.push_back(co_await ch.recv());
    co_await sender;
    order.push_back(co_await ch.recv());
    order.push_back(co_await ch.recv());
    EXPECT_EQ(order, (std::vector<int>{1, -3, 2, 3}));
    EXPECT_EQ(ch.try_recv(), std::nullopt);
    EXPECT_TRUE(ch.try_send(4));
    EXPECT_EQ(ch.try_recv(), 4);
  }());
  EXPECT_THROW(aio::Channel<int>(0), std::invalid_argument);
}

TEST(Channel, CloseIsQueueShutdown) {
  aio::run([]() -> aio::Coro<void> {
    aio::Channel<std::string> ch(4);
    co_await ch.send("a");
    co_await ch.send("b");
    ch.close();
    EXPECT_TRUE(ch.is_closed());
    EXPECT_THROW(ch.try_send(std::string("c")), aio::QueueShutDown);
    bool send_refused = false;
    try {
      co_await ch.send("c");
    } catch (const aio::QueueShutDown&) {
      send_refused = true;
    }
    EXPECT_TRUE(send_refused);
    // What was queued is still received, then QueueShutDown (or nullopt from next()).
    {
      auto got = co_await ch.recv();
      EXPECT_EQ(got, "a");
    }
    std::optional<std::string> b = co_await ch.next();
    EXPECT_EQ(b, "b");
    std::optional<std::string> end = co_await ch.next();
    EXPECT_EQ(end, std::nullopt);
    bool recv_refused = false;
    try {
      co_await ch.recv();
    } catch (const aio::QueueShutDown&) {
      recv_refused = true;
    }
    EXPECT_TRUE(recv_refused);
    EXPECT_THROW(ch.try_recv(), aio::QueueShutDown);
  }());
}

TEST(Channel, CloseWakesTheWaitersAndImmediateDropsTheItems) {
  aio::run([]() -> aio::Coro<void> {
    aio::Channel<int> empty(1);
    auto receiver = [&]() -> aio::Coro<bool> {
      try {
        co_await empty.recv();
      } catch (const aio::QueueShutDown&) {
        co_return true;
      }
      co_return false;
    };
    aio::Task<bool> r = aio::create_task(receiver());
    co_await aio::sleep(0);
    empty.close();
    {
      auto got = co_await r;
      EXPECT_TRUE(got);
    }

    aio::Channel<int> full(1);
    co_await full.send(1);
    auto sender = [&]() -> aio::Coro<bool> {
      try {
        co_await full.send(2);
      } catch (const aio::QueueShutDown&) {
        co_return true;
      }
      co_return false;
    };
    aio::Task<bool> s = aio::create_task(sender());
    co_await aio::sleep(0);
    full.close(true);
    {
      auto got = co_await s;
      EXPECT_TRUE(got);
    }
    EXPECT_EQ(full.size(), 0u);
    EXPECT_THROW(full.try_recv(), aio::QueueShutDown);
  }());
}

// test_queues' "a cancelled getter takes nothing and strands no one", for a receiver
// cancelled after the item was set aside for it.
TEST(Channel, AReceiverCancelledAfterItsWakeUpPassesTheItemOn) {
  aio::run([]() -> aio::Coro<void> {
    aio::Channel<int> ch(1);
    auto receive = [&]() -> aio::Coro<int> { co_return co_await ch.recv(); };
    aio::Task<int> first = aio::create_task(receive());
    aio::Task<int> second = aio::create_task(receive());
    co_await aio::sleep(0);
    co_await ch.send(7);  // set aside for `first`, which has not run yet
    first.cancel();
    bool cancelled = false;
    try {
      co_await first;
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    {
      auto got = co_await second;
      EXPECT_EQ(got, 7);
    }
  }());
}

TEST(Channel, AnItemHandedToACancelledReceiverGoesBackToTheFront) {
  aio::run([]() -> aio::Coro<void> {
    aio::Channel<int> ch(2);
    auto receive = [&]() -> aio::Coro<int> { co_return co_await ch.recv(); };
    aio::Task<int> r = aio::create_task(receive());
    co_await aio::sleep(0);
    co_await ch.send(1);  // handed to `r`, which has not run yet
    co_await ch.send(2);
    co_await ch.send(3);  // the channel is full again
    r.cancel();
    bool cancelled = false;
    try {
      co_await r;
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(ch.size(), 3u);  // 1 is back, ahead of the others
    EXPECT_FALSE(ch.try_send(4));
    std::vector<int> order;
    while (std::optional<int> v = ch.try_recv()) order.push_back(*v);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  }());
}

// A waiting sender's value is put in by the receiver that makes room, before the sender runs:
// cancelled after that, the sender has sent it (the CancelledError would come at its next
// await). One cancelled while it still waits sends nothing.
TEST(Channel, ASenderCancelledAfterItsValueWentInHasSentIt) {
  aio::run([]() -> aio::Coro<void> {
    aio::Channel<int> ch(1);
    co_await ch.send(1);
    auto send = [&](int v) -> aio::Coro<void> { co_await ch.send(v); };
    aio::Task<void> first = aio::create_task(send(2));
    aio::Task<void> second = aio::create_task(send(3));
    aio::Task<void> third = aio::create_task(send(4));
    co_await aio::sleep(0);
    third.cancel();  // still waiting: sends nothing
    {
      const int got = co_await ch.recv();  // makes room: `first`'s 2 goes in
      EXPECT_EQ(got, 1);
    }
    first.cancel();
    co_await first;  // it has sent
    {
      const int got = co_await ch.recv();
      EXPECT_EQ(got, 2);
    }
    co_await second;
    {
      const int got = co_await ch.recv();
      EXPECT_EQ(got, 3);
    }
    bool cancelled = false;
    try {
      co_await third;
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(ch.empty());
  }());
}

TEST(Channel, AWaitingReceiverCancelledTakesNothing) {
  aio::run([]() -> aio::Coro<void> {
    aio::Channel<int> ch(1);
    auto receive = [&]() -> aio::Coro<int> { co_return co_await ch.recv(); };
    aio::Task<int> r = aio::create_task(receive());
    co_await aio::sleep(0);
    r.cancel();
    co_await aio::sleep(0);
    EXPECT_TRUE(r.cancelled());
    co_await ch.send(5);
    EXPECT_EQ(ch.try_recv(), 5);
  }());
}

TEST(Channel, PingPongBetweenTwoLoops) {
  aio::Channel<int> ping(1), pong(1);
  aio::LoopThread other;
  constexpr int rounds = 5000;
  auto echo = [&]() -> aio::Coro<void> {
    for (int i = 0; i < rounds; ++i) {
      const int v = co_await ping.recv();
      co_await pong.send(v + 1);
    }
  };
  std::future<void> peer = aio::run_coroutine_threadsafe(echo(), other.loop());
  const int last = aio::run([&]() -> aio::Coro<int> {
    int v = 0;
    for (int i = 0; i < rounds; ++i) {
      co_await ping.send(v);
      v = co_await pong.recv();
    }
    co_return v;
  }());
  peer.get();
  EXPECT_EQ(last, rounds);
}

// Four producers (two loops, two plain threads) and three consumers (two loops, one plain
// thread) through a small channel: everything arrives once, each producer's items in order.
TEST(Channel, ManyProducersAndConsumersUnderContention) {
  aio::Channel<std::pair<int, int>> ch(8);
  constexpr int per_producer = 3000;
  aio::LoopGroup loops(2);
  std::vector<std::map<int, std::vector<int>>> seen(3);
  auto produce_async = [&](int id) -> aio::Coro<void> {
    for (int i = 0; i < per_producer; ++i) co_await ch.send({id, i});
  };
  auto consume_async = [&](int slot) -> aio::Coro<void> {
    for (;;) {
      std::optional<std::pair<int, int>> item = co_await ch.next();
      if (!item) break;
      seen[static_cast<std::size_t>(slot)][item->first].push_back(item->second);
    }
  };
  std::vector<std::future<void>> async_done;
  async_done.push_back(aio::run_coroutine_threadsafe(consume_async(0), loops[0]));
  async_done.push_back(aio::run_coroutine_threadsafe(consume_async(1), loops[1]));
  std::thread blocking_consumer([&] {
    try {
      for (;;) {
        const auto item = ch.recv_blocking();
        seen[2][item.first].push_back(item.second);
      }
    } catch (const aio::QueueShutDown&) {
    }
  });
  std::vector<std::future<void>> producers;
  producers.push_back(aio::run_coroutine_threadsafe(produce_async(0), loops[0]));
  producers.push_back(aio::run_coroutine_threadsafe(produce_async(1), loops[1]));
  std::vector<std::thread> blocking_producers;
  for (int id = 2; id < 4; ++id) {
    blocking_producers.emplace_back([&, id] {
      for (int i = 0; i < per_producer; ++i) ch.send_blocking({id, i});
    });
  }
  for (auto& p : producers) p.get();
  for (auto& t : blocking_producers) t.join();
  ch.close();
  for (auto& c : async_done) c.get();
  blocking_consumer.join();
  std::map<int, int> total;
  for (const auto& consumer : seen) {
    for (const auto& [producer, items] : consumer) {
      total[producer] += static_cast<int>(items.size());
      for (std::size_t i = 1; i < items.size(); ++i) EXPECT_LT(items[i - 1], items[i]);
    }
  }
  for (int id = 0; id < 4; ++id) EXPECT_EQ(total[id], per_producer) << "producer " << id;
}

TEST(Watch, ReceiversSeeTheLatestValueAndMaySkipSome) {
  aio::Watch<int> w(0);
  auto rx = w.subscribe();
  EXPECT_FALSE(rx.has_changed());
  w.send(1);
  w.send(2);
  EXPECT_TRUE(rx.has_changed());
  EXPECT_EQ(rx.get(), 2);
  EXPECT_FALSE(rx.has_changed());
  aio::LoopThread other;
  std::atomic<bool> waiting{false};
  auto watcher = [&]() -> aio::Coro<int> {
    auto mine = w.subscribe();
    waiting = true;
    co_await mine.changed();
    co_return mine.get();
  };
  std::future<int> seen = aio::run_coroutine_threadsafe(watcher(), other.loop());
  while (!waiting) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  w.modify([](int& v) { v = 40 + 2; });
  EXPECT_EQ(seen.get(), 42);
  EXPECT_EQ(w.version(), 3u);
  EXPECT_EQ(rx.get(), 42);
  std::thread closer([&] { w.close(); });
  EXPECT_THROW(rx.changed_blocking(), aio::QueueShutDown);  // has seen the last value
  closer.join();
  EXPECT_THROW(w.send(5), aio::QueueShutDown);
}

TEST(Watch, ChangedReturnsAtOnceForAnUnseenValueThenRaisesWhenClosed) {
  aio::run([]() -> aio::Coro<void> {
    aio::Watch<std::string> w("a");
    auto rx = w.subscribe();
    w.send("b");
    co_await rx.changed();  // at once: "b" is unseen
    EXPECT_EQ(rx.get(), "b");
    auto wait_close = [&]() -> aio::Coro<bool> {
      try {
        co_await rx.changed();
      } catch (const aio::QueueShutDown&) {
        co_return true;
      }
      co_return false;
    };
    aio::Task<bool> t = aio::create_task(wait_close());
    co_await aio::sleep(0);
    w.close();
    {
      auto got = co_await t;
      EXPECT_TRUE(got);
    }
  }());
}

TEST(Watch, ChangedOnTheWatchItselfWaitsForTheNextValue) {
  aio::run([]() -> aio::Coro<void> {
    aio::Watch<int> w(1);
    auto waiter = [&]() -> aio::Coro<int> {
      co_await w.changed();
      co_return w.get();
    };
    aio::Task<int> t = aio::create_task(waiter());
    co_await aio::sleep(0);
    EXPECT_FALSE(t.done());  // the current value does not count
    w.send(2);
    const int got = co_await t;
    EXPECT_EQ(got, 2);
  }());
}

TEST(Broadcast, EveryReceiverGetsEveryValue) {
  aio::run([]() -> aio::Coro<void> {
    aio::Broadcast<int> b(4);
    auto a = b.subscribe();
    auto c = b.subscribe();
    EXPECT_EQ(b.receiver_count(), 2u);
    EXPECT_EQ(b.send(1), 2u);
    EXPECT_EQ(b.send(2), 2u);
    {
      auto got = co_await a.recv();
      EXPECT_EQ(got, 1);
    }
    {
      auto got = co_await a.recv();
      EXPECT_EQ(got, 2);
    }
    {
      auto got = co_await c.recv();
      EXPECT_EQ(got, 1);
    }
    auto late = b.subscribe();  // only what comes next
    b.send(3);
    {
      auto got = co_await late.recv();
      EXPECT_EQ(got, 3);
    }
    {
      auto got = co_await c.recv();
      EXPECT_EQ(got, 2);
    }
    EXPECT_EQ(c.try_recv(), 3);
    EXPECT_EQ(c.try_recv(), std::nullopt);
    {
      auto gone = b.subscribe();
      EXPECT_EQ(b.receiver_count(), 4u);
    }
    EXPECT_EQ(b.receiver_count(), 3u);
    EXPECT_THROW(aio::Broadcast<int>(0), std::invalid_argument);
  }());
}

TEST(Broadcast, ALaggingReceiverIsToldHowManyItMissed) {
  aio::run([]() -> aio::Coro<void> {
    aio::Broadcast<int> b(2);
    auto rx = b.subscribe();
    for (int i = 0; i < 5; ++i) b.send(i);  // 0, 1, 2 are overwritten
    std::uint64_t missed = 0;
    try {
      co_await rx.recv();
    } catch (const aio::Lagged& e) {
      missed = e.missed();
    }
    EXPECT_EQ(missed, 3u);
    {
      auto got = co_await rx.recv();
      EXPECT_EQ(got, 3);
    }
    {
      auto got = co_await rx.recv();
      EXPECT_EQ(got, 4);
    }
    b.close();
    bool closed = false;
    try {
      co_await rx.recv();
    } catch (const aio::QueueShutDown&) {
      closed = true;
    }
    EXPECT_TRUE(closed);
  }());
}

TEST(Broadcast, ReceiversOnOtherLoopsAndThreads) {
  aio::Broadcast<int> b(1024);
  constexpr int values = 500;
  aio::LoopGroup loops(2);
  std::vector<aio::Broadcast<int>::Receiver> rxs;
  for (int i = 0; i < 3; ++i) rxs.push_back(b.subscribe());
  auto sum_on_loop = [&](std::size_t i) -> aio::Coro<long> {
    long sum = 0;
    for (;;) {
      try {
        sum += co_await rxs[i].recv();
      } catch (const aio::QueueShutDown&) {
        break;
      }
    }
    co_return sum;
  };
  std::future<long> s0 = aio::run_coroutine_threadsafe(sum_on_loop(0), loops[0]);
  std::future<long> s1 = aio::run_coroutine_threadsafe(sum_on_loop(1), loops[1]);
  std::promise<long> s2;
  std::thread blocking([&] {
    long sum = 0;
    try {
      for (;;) sum += rxs[2].recv_blocking();
    } catch (const aio::QueueShutDown&) {
    }
    s2.set_value(sum);
  });
  for (int i = 0; i < values; ++i) b.send(i);
  b.close();
  const long expected = values * (values - 1) / 2;
  EXPECT_EQ(s0.get(), expected);
  EXPECT_EQ(s1.get(), expected);
  EXPECT_EQ(s2.get_future().get(), expected);
  blocking.join();
}

}  // namespace
