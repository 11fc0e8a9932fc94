// timeout / timeout_at / Timeout, wait_for, shield, wait (asyncio-behaviours.md TO-*, WF-*,
// SHIELD-*, WAIT-*, GATHER-13), on virtual time.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::now;
using aio::testing::run_virtual;
using aio::testing::yield0;

// A vector of futures. (GCC 12 cannot keep a braced list's backing array across a co_await,
// so the tests build their vectors in this plain function.)
template <class F, class... R>
std::vector<F> vec(F first, R... rest) {
  return std::vector<F>{first, rest...};
}

// ---- timeout ----

TEST(Timeout, BasicExpiry) {  // TO-01
  run_virtual([]() -> aio::Coro<void> {
    bool cancelled = false;
    auto body = [&]() -> aio::Coro<void> {
      try {
        co_await aio::sleep(10);
      } catch (const aio::CancelledError&) {
        cancelled = true;
        throw;
      }
    };
    auto cm = aio::Timeout::after(0.01);
    EXPECT_THROW(co_await cm.run(body()), aio::TimeoutError);
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(cm.expired());
    EXPECT_DOUBLE_EQ(now(), 0.01);
    EXPECT_EQ(aio::current_task()->cancelling(), 0);
    auto at = aio::Timeout::at(now() + 0.5);
    EXPECT_DOUBLE_EQ(*at.when(), now() + 0.5);
    EXPECT_THROW(co_await at.run(aio::sleep(10)), aio::TimeoutError);
    EXPECT_THROW(co_await aio::timeout(0.1, aio::sleep(1)), aio::TimeoutError);
    EXPECT_THROW(co_await aio::timeout_at(now() + 0.1, aio::sleep(1)), aio::TimeoutError);
  });
}

TEST(Timeout, NestedWithTheSameDeadlineOnlyTheOutermostRaises) {  // TO-02
  run_virtual([]() -> aio::Coro<void> {
    const double d = now() + 0.1;
    bool cancelled = false;
    auto cm1 = aio::Timeout::at(d);
    auto cm2 = aio::Timeout::at(d);
    auto outer = [&]() -> aio::Coro<void> {
      try {
        co_await cm2.run(aio::sleep(10));
      } catch (const aio::CancelledError&) {
        cancelled = true;
        throw;
      }
    };
    EXPECT_THROW(co_await cm1.run(outer()), aio::TimeoutError);
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(cm1.expired());
    EXPECT_TRUE(cm2.expired());
  });
}

TEST(Timeout, NotExpiredOrDisabled) {  // TO-03
  run_virtual([]() -> aio::Coro<void> {
    auto cm = aio::Timeout::after(10);
    co_await cm.run(aio::sleep(0.01));
    EXPECT_FALSE(cm.expired());
    EXPECT_GT(*cm.when(), now());
    auto none = aio::Timeout::after(std::nullopt);
    co_await none.run(aio::sleep(0.01));
    EXPECT_FALSE(none.when().has_value());
    EXPECT_EQ(co_await aio::timeout(std::nullopt, aio::sleep(1, 5)), 5);
    auto none_at = aio::Timeout::at(std::nullopt);
    co_await none_at.run(aio::sleep(0.01));
    EXPECT_FALSE(none_at.when().has_value());
  });
}

TEST(Timeout, ZeroOrPastDeadline) {  // TO-04
  run_virtual([]() -> aio::Coro<void> {
    for (double d : {0.0, -11.0}) {
      for (double s : {10.0, 0.0}) {
        auto cm = aio::Timeout::after(d);
        EXPECT_THROW(co_await cm.run(aio::sleep(s)), aio::TimeoutError);
        EXPECT_TRUE(cm.expired());
        EXPECT_LE(*cm.when(), now());
        EXPECT_DOUBLE_EQ(now(), 0.0);
      }
    }
  });
}

TEST(Timeout, ForeignExceptionOrCancelPassThrough) {  // TO-05
  run_virtual([]() -> aio::Coro<void> {
    auto cm = aio::Timeout::after(0.01);
    auto raise = []() -> aio::Coro<void> {
      throw std::out_of_range("key");
      co_return;
    };
    EXPECT_THROW(co_await cm.run(raise()), std::out_of_range);
    EXPECT_FALSE(cm.expired());
    auto cm2 = aio::Timeout::after(10);
    auto self_cancel = []() -> aio::Coro<void> {
      aio::current_task()->cancel();
      co_await aio::sleep(10);
    };
    EXPECT_THROW(co_await cm2.run(self_cancel()), aio::CancelledError);
    EXPECT_FALSE(cm2.expired());
    aio::current_task()->uncancel();
  });
}

TEST(Timeout, TheTaskIsNotLeftCancelled) {  // TO-07
  run_virtual([]() -> aio::Coro<void> {
    auto outer = []() -> aio::Coro<void> {
      try {
        co_await aio::timeout(0.001, aio::sleep(10));
      } catch (const aio::TimeoutError&) {
      }
    };
    auto t = aio::create_task(outer());
    co_await t;
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 0);
  });
}

TEST(Timeout, OuterExpiresFirstAndTheInnerLetsCancelledErrorThrough) {  // TO-08 (virtual)
  run_virtual([]() -> aio::Coro<void> {
    auto o = aio::Timeout::after(0.002);
    auto i = aio::Timeout::after(0.1);
    bool inner_saw_cancel = false;
    auto inner = [&]() -> aio::Coro<void> {
      try {
        co_await i.run(aio::sleep(1));
      } catch (const aio::CancelledError&) {
        inner_saw_cancel = true;
        throw;
      }
    };
    EXPECT_THROW(co_await o.run(inner()), aio::TimeoutError);
    EXPECT_TRUE(inner_saw_cancel);
    EXPECT_TRUE(o.expired());
    EXPECT_FALSE(i.expired());
  });
}

TEST(Timeout, Reschedule) {  // TO-09
  run_virtual([]() -> aio::Coro<void> {
    const double d1 = now() + 10, d2 = now() + 20;
    auto cm = aio::Timeout::at(d1);
    auto body = [&]() -> aio::Coro<void> { co_await cm.run(aio::sleep(50)); };
    auto task = aio::create_task(body());
    co_await yield0();
    EXPECT_DOUBLE_EQ(*cm.when(), d1);
    cm.reschedule(d2);
    EXPECT_DOUBLE_EQ(*cm.when(), d2);
    cm.reschedule(std::nullopt);
    EXPECT_FALSE(cm.when().has_value());
    task.cancel();
    EXPECT_THROW(co_await task, aio::CancelledError);
    EXPECT_FALSE(cm.expired());

    auto cm2 = aio::Timeout::after(100);
    const double start = now();
    auto shorten = [&]() -> aio::Coro<void> {
      cm2.reschedule(now() + 0.5);
      co_await aio::sleep(10);
    };
    EXPECT_THROW(co_await cm2.run(shorten()), aio::TimeoutError);
    EXPECT_DOUBLE_EQ(now(), start + 0.5);
  });
}

TEST(Timeout, InsideCleanupAfterACaughtCancel) {  // TO-12
  run_virtual([]() -> aio::Coro<void> {
    auto task = *aio::current_task();
    try {
      task.cancel();
      co_await aio::sleep(1);
    } catch (const aio::CancelledError&) {
    }
    EXPECT_THROW(co_await aio::timeout(0.0, aio::sleep(1)), aio::TimeoutError);
    try {
      task.cancel();
      co_await aio::sleep(1);
    } catch (const aio::CancelledError&) {
    }
    auto cancel_inside = [&]() -> aio::Coro<void> {
      task.cancel();
      co_await aio::sleep(2);
    };
    EXPECT_THROW(co_await aio::timeout(1.0, cancel_inside()), aio::CancelledError);
    EXPECT_EQ(task.cancelling(), 3);
    while (task.uncancel() > 0) {
    }
  });
}

TEST(Timeout, StateMachineErrors) {  // TO-13
  run_virtual([]() -> aio::Coro<void> {
    auto cm = aio::Timeout::after(10);
    EXPECT_THROW(cm.reschedule(1), aio::RuntimeError);  // not entered
    co_await cm.run(aio::sleep(0));
    try {
      cm.reschedule(1);
      ADD_FAILURE();
    } catch (const aio::RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find("finished"), std::string::npos);
    }
    try {
      co_await cm.run(aio::sleep(0));
      ADD_FAILURE();
    } catch (const aio::RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find("already been entered"), std::string::npos);
    }
    auto expired = aio::Timeout::after(0.1);
    EXPECT_THROW(co_await expired.run(aio::sleep(1)), aio::TimeoutError);
    try {
      expired.reschedule(1);
      ADD_FAILURE();
    } catch (const aio::RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find("expired"), std::string::npos);
    }
    auto swallow = aio::Timeout::after(0.1);
    auto swallowing = [&]() -> aio::Coro<void> {
      try {
        co_await aio::sleep(1);
      } catch (const aio::CancelledError&) {
        try {
          swallow.reschedule(5);
          ADD_FAILURE();
        } catch (const aio::RuntimeError& e) {
          EXPECT_NE(std::string(e.what()).find("expiring"), std::string::npos);
        }
      }
    };
    co_await swallow.run(swallowing());  // swallowed: no TimeoutError
    EXPECT_TRUE(swallow.expired());
  });
  // Outside a task: a relative deadline needs the running loop's clock.
  EXPECT_THROW((void)aio::Timeout::after(1.0), aio::RuntimeError);
}

// A timeout inside the cleanup of an expiring timeout: both expire, each raising its own
// TimeoutError. (asyncio also chains them, __cause__ and __context__; C++ exceptions carry no
// such links, so TO-06's and this case's chaining has no counterpart.)
TEST(Timeout, ATimeoutNestedInTheCleanupOfAnExpiringOne) {  // TO-11
  run_virtual([]() -> aio::Coro<void> {
    bool inner_expired = false;
    auto body = [&]() -> aio::Coro<void> {
      std::exception_ptr cancel;
      try {
        co_await aio::sleep(1);
      } catch (const aio::CancelledError&) {
        cancel = std::current_exception();
      }
      // `finally:` with a timeout of its own
      try {
        co_await aio::timeout(0.01, aio::sleep(10));
      } catch (const aio::TimeoutError&) {
        inner_expired = true;
      }
      if (cancel) std::rethrow_exception(cancel);
    };
    EXPECT_THROW(co_await aio::timeout(0.01, body()), aio::TimeoutError);
    EXPECT_TRUE(inner_expired);
    EXPECT_DOUBLE_EQ(now(), 0.02);
  });
}

// The timeout expires inside a TaskGroup whose body is in a cleanup that awaits, with an error
// pending: the cancellation replaces the body's error, the child crashes as it is cancelled,
// and the group's ExceptionGroup (not a TimeoutError) comes out of the timeout.
TEST(Timeout, ExpiringAroundATaskGroup) {  // TO-14
  run_virtual([]() -> aio::Coro<void> {
    try {
      co_await aio::timeout(0.01, aio::task_group([](aio::TaskGroup& tg) -> aio::Coro<void> {
                              tg.create_task(aio::testing::crash_when_cancelled(2));
                              // try: raise ValueError finally: await sleep(1)
                              const auto pending =
                                  std::make_exception_ptr(std::invalid_argument("v"));
                              co_await aio::sleep(1);
                              std::rethrow_exception(pending);
                            }));
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const aio::ExceptionGroup& eg) {
      EXPECT_EQ(eg.exceptions().size(), 1u);
      for (const auto& e : eg.exceptions())
        EXPECT_THROW(std::rethrow_exception(e), std::domain_error);
    }
    EXPECT_DOUBLE_EQ(now(), 0.01);
  });
}

TEST(Timeout, Repr) {  // TO-10
  run_virtual([]() -> aio::Coro<void> {
    auto cm = aio::Timeout::at(12.3);
    EXPECT_EQ(cm.repr(), "<Timeout [created]>");
    std::string inside;
    auto body = [&]() -> aio::Coro<void> {
      inside = cm.repr();
      co_return;
    };
    co_await cm.run(body());
    EXPECT_EQ(inside, "<Timeout [active] when=12.3>");
    EXPECT_EQ(cm.repr(), "<Timeout [finished]>");

    auto expiring = aio::Timeout::after(0.01);
    EXPECT_THROW(co_await expiring.run(aio::sleep(1)), aio::TimeoutError);
    EXPECT_EQ(expiring.repr(), "<Timeout [expired]>");

    auto never = aio::Timeout::after(std::nullopt);
    auto body2 = [&]() -> aio::Coro<void> {
      inside = never.repr();
      co_return;
    };
    co_await never.run(body2());
    EXPECT_EQ(inside, "<Timeout [active] when=None>");
  });
}

// ---- wait_for ----

TEST(WaitFor, ATimeoutCancelsTheInnerTask) {  // WF-01
  run_virtual([]() -> aio::Coro<void> {
    bool running = false;
    auto foo = [&]() -> aio::Coro<void> {
      running = true;
      try {
        co_await aio::sleep(10);
      } catch (...) {
        running = false;
        throw;
      }
    };
    auto t = aio::create_task(foo());
    EXPECT_THROW(co_await aio::wait_for(t, 0.1), aio::TimeoutError);
    EXPECT_DOUBLE_EQ(now(), 0.1);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(running);
  });
}

TEST(WaitFor, NoTimeoutAndAResultBeforeTheTimeout) {  // WF-02
  run_virtual([]() -> aio::Coro<void> {
    EXPECT_EQ(co_await aio::wait_for(aio::sleep(5, std::string("done")), std::nullopt), "done");
    aio::Future<std::string> f;
    aio::get_running_loop().call_soon([f]() mutable { f.set_result("ok"); });
    EXPECT_EQ(co_await aio::wait_for(f, 0.2), "ok");
  });
}

TEST(WaitFor, ZeroOrNegativeTimeout) {  // WF-03
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<std::string> done;
    done.set_result("done");
    EXPECT_EQ(co_await aio::wait_for(done, 0), "done");
    bool started = false;
    auto coro = [&]() -> aio::Coro<void> {
      started = true;
      co_await aio::sleep(1);
    };
    EXPECT_THROW(co_await aio::wait_for(coro(), 0), aio::TimeoutError);
    EXPECT_FALSE(started);
    for (double d : {0.0, -1.0}) {
      bool finally_ran = false;
      auto body = [&]() -> aio::Coro<void> {
        try {
          co_await aio::sleep(10);
        } catch (...) {
          finally_ran = true;
          throw;
        }
      };
      auto t = aio::create_task(body());
      co_await yield0();
      EXPECT_THROW(co_await aio::wait_for(t, d), aio::TimeoutError);
      EXPECT_TRUE(t.cancelled());
      EXPECT_TRUE(finally_ran);
    }
  });
}

// Found by fuzz/scheduler_fuzzer: cancelling a task while wait_for(t, 0) waited for the
// cancelled `t` to finish went to `t` instead, and the task saw TimeoutError, losing its own
// cancellation. asyncio waits on a separate future there ("so that it is reliably
// cancellable"): the task gets CancelledError at once and `t` goes on.
TEST(WaitFor, ZeroTimeoutStaysCancellableWhileTheInnerTaskFinishes) {
  run_virtual([]() -> aio::Coro<void> {
    bool caught = false;
    auto slow = [&]() -> aio::Coro<int> {
      try {
        co_await aio::sleep(10);
      } catch (const aio::CancelledError&) {
        caught = true;
      }
      co_await aio::sleep(1);  // takes its time to finish after the cancellation
      co_return 7;
    };
    aio::Task<int> t = aio::create_task(slow());
    co_await yield0();
    auto waiting = [&]() -> aio::Coro<int> {
      const std::optional<aio::Duration> zero = 0.0;
      const int value = co_await aio::wait_for(t, zero);
      co_return value;
    };
    aio::Task<int> outer = aio::create_task(waiting());
    co_await yield0();
    co_await yield0();
    co_await yield0();
    EXPECT_TRUE(caught);
    EXPECT_TRUE(outer.cancel());
    EXPECT_THROW(co_await outer, aio::CancelledError);
    EXPECT_TRUE(outer.cancelled());
    EXPECT_EQ(now(), 0.0);
    EXPECT_FALSE(t.done());
    EXPECT_EQ(co_await t, 7);
    EXPECT_EQ(now(), 1.0);
  });
}
TEST(WaitFor, AnInnerThatSuppressesTheCancellationReturnsItsValue) {  // WF-04
  run_virtual([]() -> aio::Coro<void> {
    auto return_42 = []() -> aio::Coro<int> {
      try {
        co_await aio::sleep(10);
      } catch (const aio::CancelledError&) {
        co_return 42;
      }
      co_return 0;
    };
    EXPECT_EQ(co_await aio::wait_for(return_42(), 0.1), 42);
  });
}

TEST(WaitFor, WaitsForTheInnerCancellationToFinish) {  // WF-05
  for (double timeout : {0.0001, 0.0}) {
    run_virtual([timeout]() -> aio::Coro<void> {
      bool done = false;
      auto inner = [&]() -> aio::Coro<void> {
        bool cancelled = false;
        try {
          co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
          cancelled = true;  // (C++ allows no co_await inside a handler)
        }
        if (cancelled) {
          co_await aio::sleep(0.5);
          done = true;
          throw aio::CancelledError();
        }
      };
      auto t = aio::create_task(inner());
      co_await yield0();  // the inner task starts
      EXPECT_THROW(co_await aio::wait_for(t, timeout), aio::TimeoutError);
      EXPECT_DOUBLE_EQ(now(), timeout + 0.5);
      EXPECT_TRUE(done);
    });
  }
}

TEST(WaitFor, AnotherExceptionDuringTheInnerCancellationWins) {  // WF-06
  run_virtual([]() -> aio::Coro<void> {
    auto inner = []() -> aio::Coro<void> {
      try {
        co_await aio::sleep(0.2);
      } catch (...) {
      }
      throw std::domain_error("foo");
    };
    auto t = aio::create_task(inner());
    EXPECT_THROW(co_await aio::wait_for(t, 0.0001), std::domain_error);
  });
}

TEST(WaitFor, CancellingTheWaitingTaskCancelsTheInnerTask) {  // WF-07
  for (std::optional<aio::Duration> limit : {std::optional<aio::Duration>{}, {60}}) {
    run_virtual([limit]() -> aio::Coro<void> {
      auto forever = aio::create_task(aio::sleep(1e9));
      auto waiting = [&]() -> aio::Coro<void> { co_await aio::wait_for(forever, limit); };
      auto w = aio::create_task(waiting());
      aio::get_running_loop().call_soon([w]() mutable { w.cancel(); });
      EXPECT_THROW(co_await w, aio::CancelledError);
      EXPECT_TRUE(forever.cancelled());
    });
  }
}

TEST(WaitFor, OuterCancelAfterTheInnerFinished) {  // WF-08
  run_virtual([]() -> aio::Coro<void> {
    auto inner = []() -> aio::Coro<std::string> { co_return "done"; };  // done in one step
    auto inner_task = aio::create_task(inner());
    bool reached_end = false;
    auto wf = [&]() -> aio::Coro<void> {
      co_await aio::wait_for(inner_task, 100);
      co_await aio::sleep(1);
      reached_end = true;
    };
    auto task = aio::create_task(wf());
    co_await yield0();
    task.cancel();
    EXPECT_THROW(co_await task, aio::CancelledError);
    EXPECT_EQ(inner_task.result(), "done");
    EXPECT_FALSE(reached_end);
  });
}

TEST(WaitFor, AnInnerThatSwallowsEveryCancel) {  // WF-09
  run_virtual([]() -> aio::Coro<void> {
    bool exited = false;
    auto slow = [&]() -> aio::Coro<void> {
      const double end = now() + 0.2;
      while (now() < end) {
        try {
          co_await aio::sleep(end - now());
        } catch (const aio::CancelledError&) {
        }
      }
      exited = true;
    };
    co_await aio::wait_for(slow(), 0.1);  // returns normally: no TimeoutError
    EXPECT_DOUBLE_EQ(now(), 0.2);
    EXPECT_TRUE(exited);
  });
}

// ---- shield ----

TEST(Shield, StatePropagation) {  // SHIELD-01
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> inner;
    auto outer = aio::shield(inner);
    co_await yield0();
    inner.set_result(42);
    EXPECT_EQ(co_await outer, 42);

    aio::Future<int> inner2;
    auto outer2 = aio::shield(inner2);
    auto exc = std::make_exception_ptr(std::runtime_error("x"));
    inner2.set_exception(exc);
    co_await yield0();
    EXPECT_EQ(outer2.exception(), exc);

    aio::Future<int> inner3;
    auto outer3 = aio::shield(inner3);
    inner3.cancel();
    co_await yield0();
    EXPECT_TRUE(outer3.cancelled());

    aio::Future<int> inner4;
    auto outer4 = aio::shield(inner4);
    outer4.cancel();
    co_await yield0();
    EXPECT_TRUE(outer4.cancelled());
    EXPECT_FALSE(inner4.done());

    aio::Future<int> done;
    done.set_result(1);
    EXPECT_TRUE(aio::shield(done) == done);
  });
}

TEST(Shield, CancellingTheAwaitingTaskLeavesTheInnerWorkRunning) {  // SHIELD-02
  run_virtual([]() -> aio::Coro<void> {
    int proof = 0;
    aio::Future<void> waiter;
    auto inner = [&]() -> aio::Coro<void> {
      co_await waiter;
      proof += 1;
    };
    auto outer = [&]() -> aio::Coro<void> {
      co_await aio::shield(inner());
      proof += 100;
    };
    auto f = aio::create_task(outer());
    co_await yield0();
    f.cancel();
    EXPECT_THROW(co_await f, aio::CancelledError);
    waiter.set_result();
    co_await yield0();
    co_await yield0();
    EXPECT_EQ(proof, 1);
  });
}

TEST(Shield, WaitForShield) {  // WF-10
  run_virtual([]() -> aio::Coro<void> {
    auto t = aio::create_task(aio::sleep(0.5, std::string("done")));
    EXPECT_THROW(co_await aio::wait_for(aio::shield(t), 0), aio::TimeoutError);
    EXPECT_FALSE(t.done());
    EXPECT_THROW(co_await aio::wait_for(aio::shield(t), 0.01), aio::TimeoutError);
    EXPECT_EQ(co_await aio::wait_for(aio::shield(t), std::nullopt), "done");
  });
}

TEST(Shield, GatherOfShieldsAndShieldOfGather) {  // GATHER-13
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> c1, c2;
    auto p = aio::gather(c1, c2);
    auto o = aio::shield(p);
    co_await yield0();
    o.cancel();
    co_await yield0();
    EXPECT_TRUE(o.cancelled());
    c1.set_result(1);
    c2.set_result(2);
    co_await yield0();
    co_await yield0();
    EXPECT_EQ(p.result(), std::make_tuple(1, 2));

    aio::Future<int> d1, d2;
    auto q = aio::gather(aio::shield(d1), aio::shield(d2));
    co_await yield0();
    EXPECT_TRUE(q.cancel());
    co_await yield0();
    co_await yield0();
    EXPECT_THROW(std::rethrow_exception(q.exception()), aio::CancelledError);
    EXPECT_FALSE(q.cancelled());
    EXPECT_FALSE(d1.cancelled());
    EXPECT_FALSE(d2.cancelled());
  });
}

// ---- wait ----

TEST(Wait, AllCompleted) {  // WAIT-01
  run_virtual([]() -> aio::Coro<void> {
    auto a = aio::create_task(aio::sleep(0.1));
    auto b = aio::create_task(aio::sleep(0.15));
    auto waited = co_await aio::wait(vec(b, a));
    auto& done = waited.done;
    auto& pending = waited.pending;
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
    EXPECT_DOUBLE_EQ(now(), 0.15);
    auto again = co_await aio::wait(vec(b, a));
    EXPECT_EQ(again.done.size(), 2u);
    EXPECT_DOUBLE_EQ(now(), 0.15);
  });
}

TEST(Wait, FirstCompletedLeavesTheOthersRunning) {  // WAIT-02
  run_virtual([]() -> aio::Coro<void> {
    auto a = aio::create_task(aio::sleep(10));
    auto b = aio::create_task(aio::sleep(0.1));
    auto waited = co_await aio::wait(vec(b, a), aio::ReturnWhen::first_completed);
    auto& done = waited.done;
    auto& pending = waited.pending;
    EXPECT_EQ(done, vec(b));
    EXPECT_EQ(pending, vec(a));
    EXPECT_FALSE(a.done());
    EXPECT_FALSE(a.cancelled());
    EXPECT_DOUBLE_EQ(now(), 0.1);
    a.cancel();
  });
}

TEST(Wait, FirstCompletedReportsEverythingDoneByThen) {  // WAIT-03
  run_virtual([]() -> aio::Coro<void> {
    auto coro1 = []() -> aio::Coro<void> { co_await yield0(); };
    auto coro2 = []() -> aio::Coro<void> {
      co_await yield0();
      co_await yield0();
    };
    auto a = aio::create_task(coro1());
    auto b = aio::create_task(coro2());
    auto waited = co_await aio::wait(vec(b, a), aio::ReturnWhen::first_completed);
    auto& done = waited.done;
    auto& pending = waited.pending;
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
  });
}

TEST(Wait, FirstException) {  // WAIT-04, WAIT-05
  run_virtual([]() -> aio::Coro<void> {
    auto a = aio::create_task(aio::sleep(10));
    auto fail = [](double d) -> aio::Coro<void> {
      co_await aio::sleep(d);
      throw std::domain_error("zero division");
    };
    auto b = aio::create_task(fail(0));
    auto r1 = co_await aio::wait(vec(b, a), aio::ReturnWhen::first_exception);
    EXPECT_EQ(r1.done, vec(b));
    EXPECT_EQ(r1.pending, vec(a));
    EXPECT_DOUBLE_EQ(now(), 0.0);
    auto c = aio::create_task(fail(0.01));
    auto r2 = co_await aio::wait(vec(c, a), aio::ReturnWhen::first_exception);
    EXPECT_EQ(r2.done, vec(c));
    EXPECT_DOUBLE_EQ(now(), 0.01);
    a.cancel();
    b.exception();
    c.exception();

    auto x = aio::create_task(aio::sleep(0.1));
    auto y = aio::create_task(aio::sleep(0.2));
    auto z = aio::create_task(aio::sleep(10));
    aio::get_running_loop().call_later(0.05, [z]() mutable { z.cancel(); });
    auto base = now();
    auto r3 = co_await aio::wait(vec(x, y, z), aio::ReturnWhen::first_exception);
    EXPECT_EQ(r3.done.size(), 3u);  // cancellations are not exceptions here
    EXPECT_DOUBLE_EQ(now(), base + 0.2);
  });
}

TEST(Wait, AllCompletedWithOneFailure) {  // WAIT-06
  run_virtual([]() -> aio::Coro<void> {
    auto fail = []() -> aio::Coro<void> {
      co_await aio::sleep(0.15);
      throw std::runtime_error("x");
    };
    auto a = aio::create_task(aio::sleep(0.1));
    auto b = aio::create_task(fail());
    auto waited = co_await aio::wait(vec(a, b));
    auto& done = waited.done;
    auto& pending = waited.pending;
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
    int failed = 0;
    for (auto& f : done) failed += f.exception() != nullptr;
    EXPECT_EQ(failed, 1);
    EXPECT_DOUBLE_EQ(now(), 0.15);
  });
}

TEST(Wait, ATimeoutReturnsWithoutCancellingAnything) {  // WAIT-07
  run_virtual([]() -> aio::Coro<void> {
    auto a = aio::create_task(aio::sleep(0.1));
    auto b = aio::create_task(aio::sleep(0.15));
    auto waited = co_await aio::wait(vec(b, a), aio::ReturnWhen::all_completed, 0.11);
    auto& done = waited.done;
    auto& pending = waited.pending;
    EXPECT_EQ(done, vec(a));
    EXPECT_EQ(pending, vec(b));
    EXPECT_DOUBLE_EQ(now(), 0.11);
    EXPECT_FALSE(b.cancelled());
    co_await b;
    EXPECT_DOUBLE_EQ(now(), 0.15);
  });
}

TEST(Wait, ArgumentsAndDuplicates) {  // WAIT-08, WAIT-09
  run_virtual([]() -> aio::Coro<void> {
    EXPECT_THROW((void)aio::wait(std::vector<aio::Task<void>>{}), std::invalid_argument);
    auto c = aio::create_task(aio::sleep(0.1));
    auto d = aio::create_task(aio::sleep(0.2));
    auto r = co_await aio::wait(vec(c, c, d));
    EXPECT_EQ(r.done.size(), 2u);
    std::vector<aio::Task<void>> ten;
    for (int i = 0; i < 10; ++i) ten.push_back(aio::create_task(aio::sleep(0.01 * i)));
    auto r10 = co_await aio::wait(ten);
    EXPECT_EQ(r10.done.size(), 10u);
    EXPECT_TRUE(r10.pending.empty());
  });
}

TEST(Wait, CancellingTheWaiterDoesNotCancelTheTasks) {  // TASK-27
  run_virtual([]() -> aio::Coro<void> {
    int proof = 0;
    aio::Future<void> waiter;
    auto inner = [&]() -> aio::Coro<void> {
      co_await waiter;
      proof += 1;
    };
    auto outer = [&]() -> aio::Coro<void> {
      co_await aio::wait(vec(aio::create_task(inner())));
      proof += 100;
    };
    auto f = aio::create_task(outer());
    co_await yield0();
    f.cancel();
    EXPECT_THROW(co_await f, aio::CancelledError);
    waiter.set_result();
    co_await yield0();
    co_await yield0();
    EXPECT_EQ(proof, 1);
  });
}

}  // namespace
