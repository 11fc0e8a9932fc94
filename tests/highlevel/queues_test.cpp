// Queue, LifoQueue, PriorityQueue (asyncio-behaviours.md Q-*), on virtual time.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::now;
using aio::testing::run_virtual;
using aio::testing::yield0;

TEST(Queue, SizesAndOrder) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> unbounded;
    EXPECT_TRUE(unbounded.empty());
    EXPECT_FALSE(unbounded.full());
    EXPECT_EQ(unbounded.maxsize(), 0);
    aio::Queue<int> one(1);
    one.put_nowait(1);
    EXPECT_TRUE(one.full());
    EXPECT_THROW(one.put_nowait(2), aio::QueueFull);
    aio::Queue<int> fifo;
    aio::LifoQueue<int> lifo;
    aio::PriorityQueue<int> prio;
    for (int v : {1, 3, 2}) {
      fifo.put_nowait(v);
      lifo.put_nowait(v);
      prio.put_nowait(v);
    }
    std::vector<int> f, l, p;
    for (int i = 0; i < 3; ++i) {
      f.push_back(co_await fifo.get());
      l.push_back(co_await lifo.get());
      p.push_back(co_await prio.get());
    }
    EXPECT_EQ(f, (std::vector<int>{1, 3, 2}));
    EXPECT_EQ(l, (std::vector<int>{2, 3, 1}));
    EXPECT_EQ(p, (std::vector<int>{1, 2, 3}));
    EXPECT_THROW(fifo.get_nowait(), aio::QueueEmpty);
  });
}

TEST(Queue, ABoundedPutBlocksUntilThereIsRoom) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> q(2);
    std::vector<int> have;
    auto putter = [&]() -> aio::Coro<bool> {
      for (int i = 0; i < 3; ++i) {
        co_await q.put(i);
        have.push_back(i);
      }
      co_return true;
    };
    auto t = aio::create_task(putter());
    co_await yield0();
    co_await yield0();
    EXPECT_EQ(have, (std::vector<int>{0, 1}));
    EXPECT_EQ(co_await q.get(), 0);
    co_await yield0();
    EXPECT_EQ(have, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(co_await q.get(), 1);
    EXPECT_EQ(co_await q.get(), 2);
    EXPECT_TRUE(co_await t);
  });
}

TEST(Queue, BlockingGetAndPutAreWoken) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> q;
    aio::get_running_loop().call_later(0.01, [&q] { q.put_nowait(1); });
    EXPECT_EQ(co_await q.get(), 1);
    EXPECT_DOUBLE_EQ(now(), 0.01);
    aio::Queue<std::string> one(1);
    one.put_nowait("x");
    auto a = aio::create_task(one.put("a"));
    auto b = aio::create_task(one.put("b"));
    co_await yield0();
    EXPECT_EQ(co_await one.get(), "x");
    EXPECT_EQ(co_await one.get(), "a");
    EXPECT_EQ(co_await one.get(), "b");
    co_await aio::gather(a, b);
  });
}

TEST(Queue, ACancelledGetterDoesNotEatAnItem) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<std::string> q;
    auto t1 = aio::create_task(q.get());
    auto t2 = aio::create_task(q.get());
    co_await yield0();
    t1.cancel();
    co_await yield0();
    EXPECT_TRUE(t1.done());
    co_await q.put("a");
    co_await yield0();
    EXPECT_EQ(co_await t2, "a");
  });
}

TEST(Queue, AGetterCancelledAfterBeingWokenDoesNotDropTheItem) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> q;
    auto reader = aio::create_task(q.get());
    co_await yield0();
    q.put_nowait(1);
    q.put_nowait(2);
    reader.cancel();
    std::optional<int> r;
    try {
      r = co_await reader;
    } catch (const aio::CancelledError&) {
    }
    if (!r) r = co_await aio::create_task(q.get());  // (no co_await inside a handler)
    EXPECT_EQ(*r, 1);

    aio::Queue<int> q2;
    auto r1 = aio::create_task(q2.get());
    auto r2 = aio::create_task(q2.get());
    auto r3 = aio::create_task(q2.get());
    co_await yield0();
    q2.put_nowait(1);
    q2.put_nowait(2);
    r1.cancel();
    EXPECT_THROW(co_await r1, aio::CancelledError);
    const int v2 = co_await r2;
    const int v3 = co_await r3;
    EXPECT_EQ((std::set<int>{v2, v3}), (std::set<int>{1, 2}));
  });
}

TEST(Queue, APutterCancelledAfterBeingWoken) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> q(1);
    q.put_nowait(1);
    auto w = aio::create_task(q.put(2));
    co_await yield0();
    EXPECT_EQ(q.get_nowait(), 1);
    w.cancel();
    bool cancelled = false;
    try {
      co_await w;
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    if (cancelled) co_await aio::create_task(q.put(2));
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_EQ(q.qsize(), 0u);

    aio::Queue<std::string> f(1);
    auto put_a = aio::create_task(f.put("a"));
    auto put_b = aio::create_task(f.put("b"));
    auto put_c = aio::create_task(f.put("X"));
    co_await yield0();
    EXPECT_TRUE(put_a.done());
    put_c.cancel();
    co_await yield0();
    EXPECT_EQ(f.get_nowait(), "a");
    co_await yield0();
    EXPECT_EQ(f.get_nowait(), "b");
    co_await put_b;
  });
}

TEST(Queue, GetWithATimeoutLeavesNoGetterBehind) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> q;
    EXPECT_THROW(co_await aio::wait_for(q.get(), 0.1), aio::TimeoutError);
    q.put_nowait(5);  // nobody is left to be woken by mistake
    EXPECT_EQ(q.get_nowait(), 5);
  });
}

TEST(Queue, TaskDoneAndJoin) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> q;
    EXPECT_THROW(q.task_done(), std::invalid_argument);
    co_await q.join();
    co_await q.join();
    for (int i = 0; i < 100; ++i) q.put_nowait(i);
    int sum = 0;
    auto worker = [&]() -> aio::Coro<void> {
      for (;;) {
        sum += co_await q.get();
        q.task_done();
      }
    };
    auto w1 = aio::create_task(worker());
    auto w2 = aio::create_task(worker());
    co_await q.join();
    EXPECT_EQ(sum, 4950);
    w1.cancel();
    w2.cancel();
  });
}

TEST(Queue, ShutdownOnAnEmptyQueue) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> q;
    auto g = aio::create_task(q.get());
    co_await yield0();
    q.shutdown();
    co_await q.join();
    co_await yield0();
    EXPECT_EQ(q.qsize(), 0u);
    EXPECT_THROW(co_await g, aio::QueueShutDown);
    EXPECT_THROW(co_await q.put(1), aio::QueueShutDown);
    EXPECT_THROW(q.put_nowait(1), aio::QueueShutDown);
    EXPECT_THROW(co_await q.get(), aio::QueueShutDown);
    EXPECT_THROW(q.get_nowait(), aio::QueueShutDown);
  });
}

TEST(Queue, ShutdownOnANonEmptyQueueIsGraceful) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<std::string> q(1);
    q.put_nowait("data");
    auto jt = aio::create_task(q.join());
    auto pt = aio::create_task(q.put("data2"));
    co_await yield0();
    q.shutdown();
    co_await yield0();
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_THROW(co_await pt, aio::QueueShutDown);
    EXPECT_EQ(co_await q.get(), "data");
    EXPECT_THROW(co_await q.get(), aio::QueueShutDown);
    EXPECT_FALSE(jt.done());
    q.task_done();
    co_await jt;
    EXPECT_THROW(q.task_done(), std::invalid_argument);
  });
}

TEST(Queue, ShutdownImmediate) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> q;
    q.put_nowait(1);
    auto jt = aio::create_task(q.join());
    co_await yield0();
    q.shutdown(true);
    EXPECT_EQ(q.qsize(), 0u);
    co_await yield0();
    EXPECT_TRUE(jt.done());
    EXPECT_THROW(q.task_done(), std::invalid_argument);

    aio::Queue<int> q2;
    q2.put_nowait(1);
    q2.put_nowait(2);
    EXPECT_EQ(co_await q2.get(), 1);
    auto jt2 = aio::create_task(q2.join());
    q2.shutdown(true);
    EXPECT_EQ(q2.qsize(), 0u);
    co_await yield0();
    EXPECT_FALSE(jt2.done());
    EXPECT_THROW(co_await q2.get(), aio::QueueShutDown);
    q2.task_done();
    co_await jt2;
    EXPECT_THROW(q2.task_done(), std::invalid_argument);

    aio::Queue<int> q3;
    auto g1 = aio::create_task(q3.get());
    auto g2 = aio::create_task(q3.get());
    co_await yield0();
    q3.shutdown(true);
    co_await yield0();
    EXPECT_THROW(co_await g1, aio::QueueShutDown);
    EXPECT_THROW(co_await g2, aio::QueueShutDown);
  });
}

TEST(Queue, GettersAreServedFifo) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Queue<int> q;
    std::vector<std::string> log;
    auto getter = [&](std::string n) -> aio::Coro<void> {
      log.push_back(n + std::to_string(co_await q.get()));
    };
    std::vector<aio::Task<void>> ts;
    for (std::string n : {"a", "b", "c"}) ts.push_back(aio::create_task(getter(n)));
    co_await yield0();
    for (int i = 0; i < 3; ++i) q.put_nowait(i);
    co_await aio::gather(ts);
    EXPECT_EQ(log, (std::vector<std::string>{"a0", "b1", "c2"}));
  });
}

}  // namespace
