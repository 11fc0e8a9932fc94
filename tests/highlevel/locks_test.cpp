// Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier (asyncio-behaviours.md LOCK-*,
// EVT-*, COND-*, SEM-*, BAR-*), on virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::run_virtual;
using aio::testing::yield0;

TEST(Lock, IsFifoFair) {  // LOCK-01
  run_virtual([]() -> aio::Coro<void> {
    aio::Lock lock;
    std::vector<int> result;
    auto c = [&](int n) -> aio::Coro<bool> {
      bool acquired = co_await lock.acquire();
      if (acquired) result.push_back(n);
      co_return true;
    };
    EXPECT_TRUE(co_await lock.acquire());
    auto t1 = aio::create_task(c(1));
    auto t2 = aio::create_task(c(2));
    co_await yield0();
    EXPECT_TRUE(result.empty());
    lock.release();
    co_await yield0();
    EXPECT_EQ(result, std::vector<int>{1});
    co_await yield0();
    EXPECT_EQ(result, std::vector<int>{1});
    auto t3 = aio::create_task(c(3));
    lock.release();
    co_await yield0();
    EXPECT_EQ(result, (std::vector<int>{1, 2}));
    lock.release();
    co_await yield0();
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(co_await t1 && co_await t2 && co_await t3);
    lock.release();
  });
}

TEST(Lock, ReleaseErrorsAndScoped) {  // LOCK-02, MISC-01
  run_virtual([]() -> aio::Coro<void> {
    aio::Lock lock;
    EXPECT_THROW(lock.release(), aio::RuntimeError);
    co_await lock.acquire();
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked());
    {
      auto guard = co_await lock.scoped();
      EXPECT_TRUE(lock.locked());
      co_await aio::sleep(0.1);
      EXPECT_TRUE(lock.locked());
    }
    EXPECT_FALSE(lock.locked());
  });
}

TEST(Lock, ACancelledWaiterDoesNotTakeTheLock) {  // LOCK-03, LOCK-05, LOCK-06
  run_virtual([]() -> aio::Coro<void> {
    aio::Lock lock;
    co_await lock.acquire();
    auto t = aio::create_task(lock.acquire());
    aio::get_running_loop().call_soon([t]() mutable { t.cancel(); });
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_TRUE(lock.locked());

    int lock_count = 0, call_count = 0;
    auto lockit = [&]() -> aio::Coro<void> {
      ++call_count;
      co_await lock.acquire();
      ++lock_count;
    };
    auto t1 = aio::create_task(lockit());
    auto t2 = aio::create_task(lockit());
    auto t3 = aio::create_task(lockit());
    co_await yield0();
    aio::get_running_loop().call_soon([&] {
      t1.cancel();
      lock.release();
    });
    EXPECT_THROW(co_await t1, aio::CancelledError);
    co_await yield0();
    EXPECT_EQ(lock_count, 1);
    EXPECT_EQ(call_count, 3);
    EXPECT_TRUE(t2.done());
    lock.release();
    co_await t3;
    lock.release();

    co_await lock.acquire();  // LOCK-06: woken, then cancelled, passes the lock on
    auto tb = aio::create_task(lock.acquire());
    co_await yield0();
    auto tc = aio::create_task(lock.acquire());
    tb.cancel();
    lock.release();
    co_await yield0();
    co_await yield0();
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(tb.cancelled());
    EXPECT_TRUE(co_await tc);
  });
}

TEST(Event, SetWakesEveryWaiter) {  // EVT-01, EVT-02, EVT-03
  run_virtual([]() -> aio::Coro<void> {
    aio::Event ev;
    std::vector<int> result;
    auto c = [&](int n) -> aio::Coro<void> {
      bool set = co_await ev.wait();
      if (set) result.push_back(n);
    };
    auto t1 = aio::create_task(c(1));
    auto t2 = aio::create_task(c(2));
    co_await yield0();
    auto t3 = aio::create_task(c(3));
    ev.set();
    co_await yield0();
    EXPECT_EQ(result, (std::vector<int>{3, 1, 2}));
    co_await aio::gather(t1, t2, t3);
    EXPECT_TRUE(co_await ev.wait());
    ev.clear();
    EXPECT_FALSE(ev.is_set());

    auto w = aio::create_task(ev.wait());
    co_await yield0();
    ev.set();
    ev.clear();
    ev.set();
    ev.set();
    co_await yield0();
    EXPECT_TRUE(w.done() && w.result());
    ev.clear();
    auto cancelled = aio::create_task(ev.wait());
    co_await yield0();
    cancelled.cancel();
    EXPECT_THROW(co_await cancelled, aio::CancelledError);
  });
}

TEST(Condition, NotifyNeedsTheLockReleasedBeforeTheWaiterRuns) {  // COND-01, COND-02
  run_virtual([]() -> aio::Coro<void> {
    aio::Condition cond;
    std::vector<int> result;
    auto c = [&](int n) -> aio::Coro<void> {
      co_await cond.acquire();
      bool notified = co_await cond.wait();
      if (notified) result.push_back(n);
    };
    auto t1 = aio::create_task(c(1));
    auto t2 = aio::create_task(c(2));
    auto t3 = aio::create_task(c(3));
    co_await yield0();
    EXPECT_TRUE(result.empty());
    EXPECT_FALSE(cond.locked());
    co_await cond.acquire();
    cond.notify();
    co_await yield0();
    EXPECT_TRUE(result.empty());
    EXPECT_TRUE(cond.locked());
    cond.release();
    co_await yield0();
    EXPECT_EQ(result, std::vector<int>{1});
    EXPECT_TRUE(cond.locked());
    cond.notify(2);
    co_await yield0();
    EXPECT_EQ(result, std::vector<int>{1});
    cond.release();
    co_await yield0();
    EXPECT_EQ(result, (std::vector<int>{1, 2}));
    cond.release();
    co_await yield0();
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
    cond.release();
    co_await aio::gather(t1, t2, t3);
  });
}

TEST(Condition, MisuseCancelAndWaitFor) {  // COND-03, COND-04, COND-05
  run_virtual([]() -> aio::Coro<void> {
    aio::Condition cond;
    EXPECT_THROW(cond.notify(), aio::RuntimeError);
    EXPECT_THROW(cond.notify_all(), aio::RuntimeError);
    EXPECT_THROW(co_await cond.wait(), aio::RuntimeError);
    EXPECT_EQ(co_await cond.wait_for([] { return 7; }), 7);  // already true: no lock needed
    EXPECT_THROW(co_await cond.wait_for([] { return false; }), aio::RuntimeError);

    co_await cond.acquire();
    auto w = aio::create_task(cond.wait());
    co_await yield0();
    EXPECT_FALSE(cond.locked());
    co_await cond.acquire();
    w.cancel();
    cond.release();
    EXPECT_THROW(co_await w, aio::CancelledError);
    EXPECT_TRUE(cond.locked());  // the cancelled wait() re-acquired the lock
    cond.release();

    bool presult = false;
    std::vector<int> result;
    auto waiter = [&]() -> aio::Coro<void> {
      co_await cond.acquire();
      co_await cond.wait_for([&] { return presult; });
      result.push_back(1);
      cond.release();
    };
    auto t = aio::create_task(waiter());
    co_await yield0();
    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await yield0();
    EXPECT_TRUE(result.empty());
    presult = true;
    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await yield0();
    co_await yield0();
    EXPECT_EQ(result, std::vector<int>{1});
    co_await t;
  });
}

TEST(Condition, ATimeoutInsideTheBlockLeavesTheLockHeld) {  // COND-09
  run_virtual([]() -> aio::Coro<void> {
    aio::Lock lock;
    aio::Condition cond(lock);
    auto guard = co_await cond.scoped();
    EXPECT_TRUE(lock.locked());
    EXPECT_THROW(co_await aio::wait_for(cond.wait(), 0.5), aio::TimeoutError);
    EXPECT_TRUE(cond.locked());
  });
}

TEST(Semaphore, ConstructionAndBounds) {  // SEM-01
  run_virtual([]() -> aio::Coro<void> {
    EXPECT_TRUE(aio::Semaphore(0).locked());
    EXPECT_THROW(aio::Semaphore(-1), std::invalid_argument);
    aio::BoundedSemaphore b;
    EXPECT_THROW(b.release(), std::invalid_argument);
    co_await b.acquire();
    b.release();
    EXPECT_THROW(b.release(), std::invalid_argument);
    aio::Semaphore s;
    s.release();
    co_await s.acquire();
    co_await s.acquire();
    EXPECT_TRUE(s.locked());
  });
}

TEST(Semaphore, CountingAndFifoHandOff) {  // SEM-02, SEM-05
  run_virtual([]() -> aio::Coro<void> {
    aio::Semaphore sem(3);
    std::vector<int> result;
    co_await sem.acquire();
    co_await sem.acquire();
    auto c = [&](int n) -> aio::Coro<void> {
      co_await sem.acquire();
      result.push_back(n);
    };
    auto t1 = aio::create_task(c(1));
    auto t2 = aio::create_task(c(2));
    auto t3 = aio::create_task(c(3));
    co_await yield0();
    EXPECT_EQ(result, std::vector<int>{1});
    EXPECT_TRUE(sem.locked());
    auto t4 = aio::create_task(c(4));
    sem.release();
    sem.release();
    co_await yield0();
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(sem.locked());
    EXPECT_FALSE(t4.done());
    t4.cancel();
    co_await aio::gather(t1, t2, t3);

    aio::Semaphore one(1);
    std::vector<std::string> log;
    auto worker = [&](std::string tag) -> aio::Coro<void> {
      for (std::string round : {"_1", "_2"}) {
        co_await one.acquire();
        log.push_back(tag + round);
        co_await aio::sleep(0.01);
        one.release();
      }
    };
    co_await aio::gather(worker("c1"), worker("c2"), worker("c3"));
    EXPECT_EQ(log, (std::vector<std::string>{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}));
  });
}

TEST(Semaphore, WaitersCancelledBeforeBeingWoken) {  // SEM-03, SEM-06
  run_virtual([]() -> aio::Coro<void> {
    aio::Semaphore sem(0);
    auto t1 = aio::create_task(sem.acquire());
    auto t2 = aio::create_task(sem.acquire());
    auto t3 = aio::create_task(sem.acquire());
    auto t4 = aio::create_task(sem.acquire());
    co_await yield0();
    t1.cancel();
    t2.cancel();
    sem.release();
    co_await yield0();
    co_await yield0();
    EXPECT_TRUE(t3.done());
    EXPECT_FALSE(t4.done());
    t4.cancel();

    aio::Semaphore s2(0);
    auto a = aio::create_task(s2.acquire());
    auto b = aio::create_task(s2.acquire());
    co_await yield0();
    a.cancel();
    s2.release();
    co_await yield0();
    co_await yield0();
    EXPECT_TRUE(s2.locked());
    EXPECT_TRUE(b.done());
  });
}

TEST(Barrier, ArrivalIndicesAndReset) {  // BAR-01, BAR-02, BAR-06, BAR-07, BAR-08
  run_virtual([]() -> aio::Coro<void> {
    EXPECT_THROW(aio::Barrier(0), std::invalid_argument);
    aio::Barrier barrier(5);
    EXPECT_EQ(barrier.parties(), 5);
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_FALSE(barrier.broken());
    std::vector<aio::Task<std::int64_t>> ts;
    for (int i = 0; i < 5; ++i) ts.push_back(aio::create_task(barrier.wait()));
    auto indices = co_await aio::gather(ts);
    std::sort(indices.begin(), indices.end());
    EXPECT_EQ(indices, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(barrier.n_waiting(), 0);

    aio::Barrier three(3);
    auto w1 = aio::create_task(three.wait());
    auto w2 = aio::create_task(three.wait());
    co_await yield0();
    EXPECT_EQ(three.n_waiting(), 2);
    w1.cancel();
    EXPECT_THROW(co_await w1, aio::CancelledError);
    EXPECT_EQ(three.n_waiting(), 1);
    co_await three.reset();  // the waiting party gets BrokenBarrierError
    EXPECT_THROW(co_await w2, aio::BrokenBarrierError);
    EXPECT_EQ(three.n_waiting(), 0);
    EXPECT_FALSE(three.broken());

    co_await three.abort();
    EXPECT_TRUE(three.broken());
    EXPECT_THROW(co_await three.wait(), aio::BrokenBarrierError);
    co_await three.reset();
    EXPECT_FALSE(three.broken());
    aio::Barrier single(1);
    EXPECT_EQ(co_await single.wait(), 0);
    EXPECT_EQ(co_await single.wait(), 0);
  });
}

TEST(Lock, AWaiterCancelledDuringTheHandOffIsSkipped) {  // LOCK-04
  run_virtual([]() -> aio::Coro<void> {
    aio::Lock lock;
    auto lockit = [&](std::optional<aio::Future<void>> blocker) -> aio::Coro<void> {
      co_await lock.acquire();
      std::exception_ptr error;
      try {
        if (blocker) co_await *blocker;
      } catch (...) {
        error = std::current_exception();
      }
      lock.release();
      if (error) std::rethrow_exception(error);
    };
    auto fa = aio::get_running_loop().create_future<void>();
    auto ta = aio::create_task(lockit(fa));
    co_await yield0();
    EXPECT_TRUE(lock.locked());
    auto tb = aio::create_task(lockit(std::nullopt));
    co_await yield0();
    auto tc = aio::create_task(lockit(std::nullopt));
    co_await yield0();
    // A is released and B cancelled in the same turn: the lock goes to C, not to B.
    fa.set_result();
    tb.cancel();
    co_await yield0();
    EXPECT_FALSE(lock.locked());
    EXPECT_TRUE(ta.done());
    EXPECT_TRUE(tb.cancelled());
    co_await tc;
    EXPECT_FALSE(lock.locked());
  });
}

TEST(Condition, CancelledAfterTheNotifyWhileReacquiring) {  // COND-06
  run_virtual([]() -> aio::Coro<void> {
    aio::Condition cond;
    bool waited = false;
    auto wait_on_cond = [&]() -> aio::Coro<void> {
      auto guard = co_await cond.scoped();
      waited = true;
      co_await cond.wait();
    };
    auto waiter = aio::create_task(wait_on_cond());
    co_await yield0();  // waiting
    co_await cond.acquire();
    cond.notify();
    co_await yield0();  // notified, now blocked re-acquiring the lock we hold
    waiter.cancel();
    co_await yield0();  // the cancellation arrives while it re-acquires
    cond.release();
    co_await yield0();  // it takes the lock, and then the cancellation propagates
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_TRUE(waited);
    EXPECT_FALSE(cond.locked());  // the guard released the lock on the way out
  });
}

// wait_for's caller sees the very CancelledError object it caught, with the cancel's message,
// whether the cancel came while waiting for the notify or while re-acquiring the lock.
TEST(Condition, TheSameCancelledErrorIsRethrown) {  // COND-07
  for (const bool while_reacquiring : {false, true}) {
    run_virtual([&]() -> aio::Coro<void> {
      aio::Condition cond;
      bool wake = false;
      const aio::CancelledError* raised = nullptr;
      auto func = [&]() -> aio::Coro<void> {
        auto guard = co_await cond.scoped();
        try {
          co_await cond.wait_for([&] { return wake; });
        } catch (const aio::CancelledError& e) {
          raised = &e;
          throw;
        }
        ADD_FAILURE() << "wait_for returned instead of raising";
      };
      auto task = aio::create_task(func());
      co_await yield0();
      if (while_reacquiring) {
        co_await cond.acquire();
        wake = true;
        cond.notify();
        co_await yield0();  // the task now waits for the lock
        task.cancel("foo");
        cond.release();
      } else {
        task.cancel("foo");
      }
      try {
        co_await task;
        ADD_FAILURE() << "the task was not cancelled";
      } catch (const aio::CancelledError& e) {
        EXPECT_EQ(e.message(), "foo");
        EXPECT_EQ(&e, raised) << "while_reacquiring=" << while_reacquiring;
      }
    });
  }
}

// A consumer cancelled just as notify(1) picked it passes the notification on to the other, so
// the item is still consumed.
TEST(Condition, ANotifyRacingACancelIsNotLost) {  // COND-08
  for (const bool while_reacquiring : {false, true}) {
    run_virtual([&]() -> aio::Coro<void> {
      aio::Condition cond;
      int state = 0;
      auto consumer = [&]() -> aio::Coro<void> {
        auto guard = co_await cond.scoped();
        for (;;) {
          co_await cond.wait_for([&] { return state != 0; });
          if (state < 0) co_return;
          --state;
        }
      };
      auto c0 = aio::create_task(consumer());
      auto c1 = aio::create_task(consumer());
      co_await yield0();
      {
        auto guard = co_await cond.scoped();
        ++state;
        cond.notify(1);
        if (while_reacquiring) co_await yield0();  // c0 is woken and waits for the lock
        c0.cancel();
        try {
          co_await aio::timeout(0.01, cond.wait_for([&] { return state == 0; }));
        } catch (const aio::TimeoutError&) {
        }
        EXPECT_EQ(state, 0) << "while_reacquiring=" << while_reacquiring;
        state = -1;
        cond.notify_all();
      }
      co_await c1;
      EXPECT_THROW(co_await c0, aio::CancelledError);
    });
  }
}

TEST(Semaphore, NoHangWhenTheHolderCancelsAWaiter) {  // SEM-04
  run_virtual([]() -> aio::Coro<void> {
    aio::Semaphore sem(1);
    std::optional<aio::Task<void>> t2;
    auto c1 = [&]() -> aio::Coro<void> {
      {
        auto guard = co_await sem.scoped();
        co_await yield0();
      }
      t2->cancel();
    };
    auto c2 = [&]() -> aio::Coro<void> {
      auto guard = co_await sem.scoped();
      ADD_FAILURE() << "c2 acquired the semaphore";
    };
    auto t1 = aio::create_task(c1());
    t2 = aio::create_task(c2());
    auto [r1, r2] = co_await aio::gather(aio::return_exceptions, t1, *t2);
    EXPECT_TRUE(r1.has_value());
    EXPECT_THROW(r2.value(), aio::CancelledError);
    EXPECT_TRUE(co_await aio::wait_for(sem.acquire(), 1.0));
  });
}

// c2 releases three times while c1's wake-up is pending; when c1 runs it wakes c2 and c3, and
// a task c1 creates runs after both (asyncio 3.13's FIFO rule).
TEST(Semaphore, OneAcquireWakesTheQueuedWaitersInOrder) {  // SEM-07
  run_virtual([]() -> aio::Coro<void> {
    aio::Semaphore sem(0);
    std::vector<int> result;
    std::optional<aio::Task<void>> t4;
    auto c4 = [&]() -> aio::Coro<void> {
      result.push_back(4);
      co_return;
    };
    auto c1 = [&]() -> aio::Coro<void> {
      co_await sem.acquire();
      t4 = aio::create_task(c4());
      result.push_back(1);
    };
    auto c2 = [&]() -> aio::Coro<void> {
      sem.release();
      sem.release();
      sem.release();
      EXPECT_TRUE(sem.locked());  // c1 has not run yet: it still counts as a waiter
      co_await sem.acquire();
      result.push_back(2);
    };
    auto c3 = [&]() -> aio::Coro<void> {
      co_await sem.acquire();
      EXPECT_TRUE(sem.locked());
      result.push_back(3);
    };
    auto t1 = aio::create_task(c1());
    auto t2 = aio::create_task(c2());
    auto t3 = aio::create_task(c3());
    co_await yield0();
    EXPECT_TRUE(result.empty());
    co_await yield0();
    co_await aio::gather(t1, t2, t3);
    co_await *t4;
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3, 4}));
  });
}

TEST(Barrier, OnePartyAndFillingStepByStep) {  // BAR-03, BAR-04
  run_virtual([]() -> aio::Coro<void> {
    aio::Barrier one(1);
    auto t1 = aio::create_task(one.wait());
    co_await yield0();
    EXPECT_EQ(one.n_waiting(), 0);
    auto t2 = aio::create_task(one.wait());
    co_await yield0();
    EXPECT_TRUE(t1.done() && t2.done());
    EXPECT_EQ(co_await t1, 0);
    EXPECT_EQ(co_await t2, 0);
    EXPECT_FALSE(one.broken());

    aio::Barrier three(3);
    auto a = aio::create_task(three.wait());
    co_await yield0();
    EXPECT_EQ(three.n_waiting(), 1);
    auto b = aio::create_task(three.wait());
    co_await yield0();
    EXPECT_EQ(three.n_waiting(), 2);
    EXPECT_FALSE(a.done());
    auto c = aio::create_task(three.wait());
    co_await yield0();
    auto indices = co_await aio::gather(a, b, c);
    EXPECT_EQ(std::get<0>(indices) + std::get<1>(indices) + std::get<2>(indices), 0 + 1 + 2);
    EXPECT_EQ(three.n_waiting(), 0);
    EXPECT_FALSE(three.broken());
  });
}

// While the first N-1 parties leave, a newcomer waits for the round to drain (asyncio's
// "draining" state, which its repr shows): it is not counted in this round.
TEST(Barrier, ANewcomerWaitsWhileTheBarrierDrains) {  // BAR-05
  run_virtual([]() -> aio::Coro<void> {
    constexpr int n = 5;
    aio::Barrier barrier(n);
    std::vector<std::int64_t> seen_waiting;
    std::optional<aio::Task<std::int64_t>> late;
    auto coro = [&]() -> aio::Coro<void> {
      const std::int64_t i = co_await barrier.wait();
      seen_waiting.push_back(barrier.n_waiting());
      if (i == 0) late = aio::create_task(barrier.wait());  // arrives while draining
    };
    std::vector<aio::Task<void>> ts;
    for (int i = 0; i < n; ++i) ts.push_back(aio::create_task(coro()));
    co_await aio::gather(ts);
    EXPECT_EQ(seen_waiting, std::vector<std::int64_t>(n, 0));
    co_await yield0();
    if (!late) {
      ADD_FAILURE() << "no party had index 0";
      co_return;
    }
    EXPECT_FALSE(late->done());
    EXPECT_EQ(barrier.n_waiting(), 1);  // the newcomer opened the next round
    co_await barrier.abort();
    EXPECT_THROW(co_await *late, aio::BrokenBarrierError);
  });
}

TEST(Barrier, AbortThenResetMakesItUsableAgain) {  // BAR-09
  run_virtual([]() -> aio::Coro<void> {
    constexpr int n = 5;
    aio::Barrier barrier1(n), barrier2(n);
    int results1 = 0, results2 = 0, results3 = 0;
    auto coro = [&]() -> aio::Coro<void> {
      bool failed = false;
      try {
        const std::int64_t i = co_await barrier1.wait();
        if (i == n / 2) throw std::runtime_error("the middle one fails");
        co_await barrier1.wait();
        ++results1;
      } catch (const aio::BrokenBarrierError&) {
        ++results2;
      } catch (const std::runtime_error&) {
        failed = true;
      }
      if (failed) co_await barrier1.abort();
      // Everyone has left barrier1 before it is reset, and no one enters it before.
      std::int64_t index = co_await barrier2.wait();
      if (index == n / 2) co_await barrier1.reset();
      co_await barrier2.wait();
      co_await barrier1.wait();
      ++results3;
    };
    std::vector<aio::Task<void>> ts;
    for (int i = 0; i < n; ++i) ts.push_back(aio::create_task(coro()));
    co_await aio::gather(ts);
    EXPECT_FALSE(barrier1.broken());
    EXPECT_EQ(results1, 0);
    EXPECT_EQ(results2, n - 1);
    EXPECT_EQ(results3, n);
    EXPECT_EQ(barrier1.n_waiting(), 0);
  });
}

}  // namespace
