// asyncio's Task behaviours (asyncio-behaviours.md TASK-*), on virtual time. TASK-31 (context
// variables copied per task) has no counterpart: aio has no contextvars (docs/guide.md).
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::now;
using aio::testing::run_virtual;
using aio::testing::yield0;

aio::Coro<int> inner1() {
  co_return 42;
}
aio::Coro<int> inner2() {
  co_return 1000;
}
aio::Coro<int> outer() {
  co_return co_await inner1() + co_await inner2();
}

TEST(Task, AwaitsCoroutinesAndTasks) {  // TASK-01
  run_virtual([]() -> aio::Coro<void> {
    EXPECT_EQ(co_await outer(), 1042);
    auto t = aio::create_task(outer());
    EXPECT_EQ(co_await t, 1042);
    EXPECT_EQ(t.result(), 1042);
  });
}

TEST(Task, CreateTaskIsLazyAndFifo) {  // TASK-02
  run_virtual([]() -> aio::Coro<void> {
    std::vector<std::string> log;
    auto w = [&](std::string n) -> aio::Coro<void> {
      log.push_back(n + ":start");
      co_await yield0();
      log.push_back(n + ":end");
    };
    std::vector<aio::Task<void>> ts;
    for (std::string n : {"a", "b", "c"}) ts.push_back(aio::create_task(w(n)));
    EXPECT_TRUE(log.empty());
    co_await yield0();
    EXPECT_EQ(log, (std::vector<std::string>{"a:start", "b:start", "c:start"}));
    co_await aio::gather(ts);
    EXPECT_EQ(log, (std::vector<std::string>{"a:start", "b:start", "c:start", "a:end", "b:end",
                                             "c:end"}));
  });
}

TEST(Task, FirstStepIsFifoWithCallSoon) {  // TASK-03
  run_virtual([]() -> aio::Coro<void> {
    std::vector<std::string> log;
    auto& loop = aio::get_running_loop();
    auto w = [&]() -> aio::Coro<void> {
      log.push_back("t1");
      co_return;
    };
    loop.call_soon([&] { log.push_back("cb1"); });
    auto t = aio::create_task(w());
    loop.call_soon([&] { log.push_back("cb2"); });
    co_await t;
    EXPECT_EQ(log, (std::vector<std::string>{"cb1", "t1", "cb2"}));
  });
}

TEST(Task, CancelBeforeTheFirstStepMeansTheBodyNeverRuns) {  // TASK-04
  run_virtual([]() -> aio::Coro<void> {
    std::vector<std::string> started;
    auto body = [&]() -> aio::Coro<void> {
      started.push_back("1");
      try {
        co_await aio::sleep(10);
      } catch (...) {
        started.push_back("finally");
        throw;
      }
    };
    auto t = aio::create_task(body());
    EXPECT_TRUE(t.cancel("my message"));
    try {
      co_await t;
      ADD_FAILURE();
    } catch (const aio::CancelledError& e) {
      EXPECT_EQ(e.message(), "my message");
    }
    EXPECT_TRUE(started.empty());
    EXPECT_TRUE(t.cancelled());
  });
}

TEST(Task, CancellingATaskCancelsTheFutureItAwaits) {  // TASK-05
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<void> f;
    auto task = [&]() -> aio::Coro<int> {
      co_await f;
      co_return 12;
    };
    auto t = aio::create_task(task());
    co_await yield0();
    t.cancel();
    co_await yield0();
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
  });
}

TEST(Task, CancellingASleepingTaskFromACallSoon) {  // TASK-05 variant
  run_virtual([]() -> aio::Coro<void> {
    auto task = []() -> aio::Coro<int> {
      co_await aio::sleep(10);
      co_return 12;
    };
    auto t = aio::create_task(task());
    aio::get_running_loop().call_soon([t]() mutable { t.cancel(); });
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_DOUBLE_EQ(now(), 0.0);
    EXPECT_FALSE(t.cancel());
  });
}

TEST(Task, CancellingTheAwaitedFutureCancelsTheTask) {  // TASK-06
  for (bool both : {false, true}) {
    run_virtual([both]() -> aio::Coro<void> {
      aio::Future<void> f;
      auto task = [&]() -> aio::Coro<int> {
        co_await f;
        co_return 12;
      };
      auto t = aio::create_task(task());
      co_await yield0();
      f.cancel();
      if (both) t.cancel();
      EXPECT_THROW(co_await t, aio::CancelledError);
      EXPECT_TRUE(f.cancelled());
      EXPECT_TRUE(t.cancelled());
    });
  }
}

TEST(Task, CatchingCancelledErrorAndReturningAValue) {  // TASK-07
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<void> fut1, fut2;
    auto task = [&]() -> aio::Coro<int> {
      co_await fut1;
      try {
        co_await fut2;
      } catch (const aio::CancelledError&) {
        co_return 42;
      }
      co_return 0;
    };
    auto t = aio::create_task(task());
    co_await yield0();
    fut1.set_result();
    co_await yield0();
    co_await yield0();
    t.cancel();
    EXPECT_TRUE(fut2.cancelled());
    EXPECT_EQ(co_await t, 42);
    EXPECT_FALSE(t.cancelled());
  });
}

TEST(Task, IgnoringCancellationAndCarryingOn) {  // TASK-08
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<void> fut1, fut2;
    aio::Future<int> fut3;
    auto task = [&]() -> aio::Coro<int> {
      co_await fut1;
      try {
        co_await fut2;
      } catch (const aio::CancelledError&) {
      }
      co_return co_await fut3;
    };
    auto t = aio::create_task(task());
    co_await yield0();
    fut1.set_result();
    co_await yield0();
    co_await yield0();
    t.cancel();
    co_await yield0();
    fut3.set_result(42);
    EXPECT_TRUE(fut2.cancelled());
    EXPECT_EQ(co_await t, 42);
    EXPECT_FALSE(fut3.cancelled());
    EXPECT_FALSE(t.cancelled());
  });
}

TEST(Task, SelfCancelThenAwaitIsCancelledAtOnce) {  // TASK-09
  run_virtual([]() -> aio::Coro<void> {
    std::optional<aio::Task<int>> t;
    auto task = [&]() -> aio::Coro<int> {
      t->cancel();
      co_await aio::sleep(100);
      co_return 12;
    };
    t = aio::create_task(task());
    EXPECT_THROW(co_await *t, aio::CancelledError);
    EXPECT_DOUBLE_EQ(now(), 0.0);
    EXPECT_TRUE(t->cancelled());
    EXPECT_FALSE(t->cancel());
  });
}

TEST(Task, SelfCancelThenReturnStillEndsCancelled) {  // TASK-10
  run_virtual([]() -> aio::Coro<void> {
    std::optional<aio::Task<int>> t;
    auto task = [&]() -> aio::Coro<int> {
      t->cancel();
      co_return 12;
    };
    t = aio::create_task(task());
    EXPECT_THROW(co_await *t, aio::CancelledError);
    EXPECT_TRUE(t->cancelled());
  });
}

TEST(Task, CancelRequestedWhileRunningChainsIntoTheAwaitedTask) {  // TASK-11
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<void> f;
    std::optional<aio::Task<void>> task, nt;
    auto nested = [&]() -> aio::Coro<void> { co_await f; };
    auto coro = [&]() -> aio::Coro<void> {
      nt = aio::create_task(nested());
      co_await yield0();
      task->cancel();
      co_await *nt;
    };
    task = aio::create_task(coro());
    EXPECT_THROW(co_await *task, aio::CancelledError);
    EXPECT_TRUE(task->cancelled());
    EXPECT_TRUE(nt->cancelled());
    EXPECT_TRUE(f.cancelled());
  });
}

TEST(Task, CancelReturnValueAndCancellingCounter) {  // TASK-12
  run_virtual([]() -> aio::Coro<void> {
    auto t = aio::create_task(aio::sleep(10));
    EXPECT_EQ(t.cancelling(), 0);
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 2);
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_FALSE(t.cancel());
    EXPECT_EQ(t.cancelling(), 2);
  });
}

TEST(Task, UncancelUndoesACancelRequest) {  // TASK-13
  run_virtual([]() -> aio::Coro<void> {
    auto task = []() -> aio::Coro<void> {
      try {
        co_await aio::sleep(10);
      } catch (const aio::CancelledError&) {
        aio::current_task()->uncancel();
      }
      co_await aio::sleep(10);
    };
    auto t = aio::create_task(task());
    co_await aio::sleep(0.01);
    t.cancel();
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_FALSE(t.done());
    co_await aio::sleep(0.01);
    EXPECT_EQ(t.cancelling(), 0);
    EXPECT_FALSE(t.done());
    t.cancel();
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    t.uncancel();
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(t.done());
  });
}

TEST(Task, UncancelClearsAPendingMustCancel) {  // TASK-14 (3.13)
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<void> f;
    auto coro = [&]() -> aio::Coro<int> {
      co_await f;
      co_return 42;
    };
    auto t = aio::create_task(coro());
    co_await yield0();
    f.set_result();
    t.cancel();
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_EQ(t.uncancel(), 0);
    EXPECT_EQ(co_await t, 42);
  });
}

TEST(Task, StructuredTimeoutFromCancelAndUncancel) {  // TASK-15
  struct Case {
    double s, timeout;
    bool timed_out, finished;
  };
  for (Case c : {Case{10, 0.1, true, false}, Case{0, 10, false, true}}) {
    run_virtual([c]() -> aio::Coro<void> {
      auto& loop = aio::get_running_loop();
      bool timed_out = false, finished = false;
      aio::TaskRef task = *aio::current_task();
      auto h = loop.call_later(c.timeout, [&] {
        timed_out = true;
        task.cancel();
      });
      try {
        try {
          co_await aio::sleep(c.s);
          finished = true;
        } catch (const aio::CancelledError&) {
          h.cancel();
          if (timed_out && task.uncancel() == 0) throw aio::TimeoutError();
          throw;
        }
        h.cancel();
      } catch (const aio::TimeoutError&) {
      }
      co_await yield0();
      EXPECT_EQ(timed_out, c.timed_out);
      EXPECT_EQ(finished, c.finished);
      EXPECT_EQ(task.cancelling(), 0);
    });
  }
}

TEST(Task, CancelMessageRoundTripsThroughResult) {  // TASK-16
  run_virtual([]() -> aio::Coro<void> {
    for (std::string msg : {"", "my message"}) {
      auto inner = aio::create_task(aio::sleep(10));
      co_await yield0();
      inner.cancel(msg);
      try {
        co_await inner;
      } catch (const aio::CancelledError&) {
      }
      try {
        inner.result();
        ADD_FAILURE();
      } catch (const aio::CancelledError& e) {
        EXPECT_EQ(e.message(), msg);
      }
    }
  });
}

TEST(Task, ConvertingCancelledErrorIntoAnotherException) {  // TASK-17, TASK-32
  run_virtual([]() -> aio::Coro<void> {
    auto t = []() -> aio::Coro<void> {
      try {
        co_await aio::sleep(10);
      } catch (const aio::CancelledError& e) {
        throw std::invalid_argument("converted: " + e.message());
      }
    };
    auto task = aio::create_task(t());
    co_await yield0();
    task.cancel("msg");
    EXPECT_THROW(co_await task, std::invalid_argument);
    EXPECT_FALSE(task.cancelled());
    try {
      std::rethrow_exception(task.exception());
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "converted: msg");
    }
  });
}

TEST(Task, KeyboardInterruptIsStoredAndEscapesTheLoop) {  // TASK-18
  aio::EventLoop loop({.virtual_time = true});
  auto notmuch = []() -> aio::Coro<void> {
    try {
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
      throw aio::KeyboardInterrupt();
    }
  };
  auto task = loop.create_task(notmuch());
  loop.run_until_complete(aio::sleep(0));
  task.cancel();
  EXPECT_THROW(loop.run_until_complete(aio::sleep(1)), aio::KeyboardInterrupt);
  EXPECT_TRUE(task.done());
  EXPECT_FALSE(task.cancelled());
  EXPECT_THROW(std::rethrow_exception(task.exception()), aio::KeyboardInterrupt);
  // The loop is usable afterwards.
  EXPECT_EQ(loop.run_until_complete(aio::sleep(0, 7)), 7);
}

TEST(Task, ExceptionsPropagateThroughAwait) {  // TASK-19
  run_virtual([]() -> aio::Coro<void> {
    auto raise_error = []() -> aio::Coro<void> {
      throw std::out_of_range("value");
      co_return;
    };
    auto t = aio::create_task(raise_error());
    EXPECT_THROW(co_await t, std::out_of_range);
    EXPECT_THROW(std::rethrow_exception(t.exception()), std::out_of_range);
  });
}

TEST(Task, Misuse) {  // TASK-20
  run_virtual([]() -> aio::Coro<void> {
    std::optional<aio::Task<std::string>> t;
    auto self = [&]() -> aio::Coro<std::string> {
      co_await yield0();
      EXPECT_THROW(co_await *t, aio::RuntimeError);  // a task cannot await itself
      co_return "ko";
    };
    t = aio::create_task(self());
    EXPECT_THROW(t->set_result("x"), aio::RuntimeError);
    EXPECT_THROW(t->set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                 aio::RuntimeError);
    aio::Future<std::string> as_future = *t;
    EXPECT_THROW(as_future.set_result("x"), aio::RuntimeError);
    EXPECT_EQ(co_await *t, "ko");
  });
}

TEST(Task, CurrentTaskInsideInterleavedTasks) {  // TASK-22
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<bool> f1, f2;
    std::optional<aio::Task<void>> task1, task2;
    int checks = 0;
    auto coro1 = [&]() -> aio::Coro<void> {
      checks += *aio::current_task() == *task1;
      co_await f1;
      checks += *aio::current_task() == *task1;
      f2.set_result(true);
    };
    auto coro2 = [&]() -> aio::Coro<void> {
      checks += *aio::current_task() == *task2;
      f1.set_result(true);
      co_await f2;
      checks += *aio::current_task() == *task2;
    };
    task1 = aio::create_task(coro1());
    task2 = aio::create_task(coro2());
    co_await aio::gather(*task1, *task2);
    EXPECT_EQ(checks, 4);
  });
}

TEST(Task, NoRunningLoop) {  // TASK-23
  EXPECT_THROW(aio::current_task(), aio::RuntimeError);
  EXPECT_THROW(aio::all_tasks(), aio::RuntimeError);
  EXPECT_THROW(aio::create_task(aio::sleep(0)), aio::RuntimeError);
  try {
    aio::get_running_loop();
    ADD_FAILURE();
  } catch (const aio::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "no running event loop");
  }
}

TEST(Task, AllTasksMembership) {  // TASK-24
  run_virtual([]() -> aio::Coro<void> {
    aio::TaskRef me = *aio::current_task();
    EXPECT_EQ(aio::all_tasks(), std::vector<aio::TaskRef>{me});
    aio::Future<void> f;
    auto w = [&]() -> aio::Coro<void> { co_await f; };
    auto t = aio::create_task(w());
    auto contains = [](const std::vector<aio::TaskRef>& v, const aio::TaskRef& x) {
      return std::find(v.begin(), v.end(), x) != v.end();
    };
    auto s1 = aio::all_tasks();
    EXPECT_EQ(s1.size(), 2u);
    EXPECT_TRUE(contains(s1, me) && contains(s1, t));
    co_await yield0();
    EXPECT_EQ(aio::all_tasks().size(), 2u);
    f.set_result();
    co_await t;
    EXPECT_EQ(aio::all_tasks(), std::vector<aio::TaskRef>{me});
  });
}

TEST(Task, Names) {  // TASK-25
  run_virtual([]() -> aio::Coro<void> {
    auto named = aio::create_task(aio::sleep(0), "No-op");
    EXPECT_EQ(named.get_name(), "No-op");
    auto a = aio::create_task(aio::sleep(0));
    auto b = aio::create_task(aio::sleep(0));
    auto number = [](const std::string& n) { return std::stoull(n.substr(5)); };
    EXPECT_EQ(a.get_name().substr(0, 5), "Task-");
    EXPECT_LT(number(a.get_name()), number(b.get_name()));
    b.set_name("123456789");
    EXPECT_EQ(b.get_name(), "123456789");
    co_await aio::gather(named, a, b);
  });
}

TEST(Task, CancelGoesThroughNestedAwaitsAndTheOuterCatchWins) {  // TASK-26
  run_virtual([]() -> aio::Coro<void> {
    int proof = 0;
    aio::Future<void> waiter;
    auto inner = [&]() -> aio::Coro<void> {
      try {
        co_await waiter;
      } catch (const aio::CancelledError&) {
        proof += 1;
        throw;
      }
    };
    auto outer = [&]() -> aio::Coro<void> {
      try {
        co_await inner();
        proof += 10;
      } catch (const aio::CancelledError&) {
        proof += 100;
      }
    };
    auto f = aio::create_task(outer());
    co_await yield0();
    f.cancel();
    co_await f;
    EXPECT_EQ(proof, 101);
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_FALSE(f.cancelled());
  });
}

TEST(Task, LoopStopDuringRunUntilComplete) {  // TASK-28
  aio::EventLoop loop({.virtual_time = true});
  int x = 0;
  auto task = [&]() -> aio::Coro<void> {
    while (x < 10) {
      co_await aio::sleep(0.1);
      ++x;
      if (x == 2) loop.stop();
    }
  };
  auto t = loop.create_task(task());
  try {
    loop.run_until_complete(t);
    ADD_FAILURE();
  } catch (const aio::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Event loop stopped before Future completed.");
  }
  EXPECT_EQ(x, 2);
  EXPECT_FALSE(t.done());
  t.cancel();
  EXPECT_THROW(loop.run_until_complete(t), aio::CancelledError);
}

TEST(Task, CancellingASleepingTaskFromATimer) {  // TASK-29
  run_virtual([]() -> aio::Coro<void> {
    auto sleeper = aio::create_task(aio::sleep(5000));
    aio::get_running_loop().call_later(0.1, [sleeper]() mutable { sleeper.cancel(); });
    std::string r;
    try {
      co_await sleeper;
    } catch (const aio::CancelledError&) {
      r = "cancelled";
    }
    EXPECT_EQ(r, "cancelled");
    EXPECT_DOUBLE_EQ(now(), 0.1);
    EXPECT_THROW((void)aio::sleep(std::nan("")), std::invalid_argument);
  });
}

TEST(Task, RunsToCompletionWithoutHandles) {
  run_virtual([]() -> aio::Coro<void> {
    bool finished = false;
    auto body = [&]() -> aio::Coro<void> {
      co_await aio::sleep(1);
      finished = true;
    };
    (void)aio::create_task(body());  // the handle is dropped at once
    co_await aio::sleep(2);
    EXPECT_TRUE(finished);
  });
}

TEST(Task, HandlesStayReadableAfterTheLoopIsClosed) {
  std::optional<aio::Task<int>> done, pending;
  {
    aio::EventLoop loop({.virtual_time = true});
    done = loop.create_task(aio::sleep(1, 5));
    pending = loop.create_task(aio::sleep(100, 6));
    loop.run_until_complete(*done);
  }
  EXPECT_EQ(done->result(), 5);
  EXPECT_FALSE(pending->done());
  EXPECT_THROW(pending->result(), aio::InvalidStateError);
}

TEST(Task, TaskRefIsTypeErasedAndComparesIdentity) {
  run_virtual([]() -> aio::Coro<void> {
    auto t = aio::create_task(aio::sleep(0, 3));
    aio::TaskRef r = t;
    EXPECT_TRUE(r == t);
    EXPECT_EQ(r.get_name(), t.get_name());
    EXPECT_THROW(r.exception(), aio::InvalidStateError);
    co_await t;
    EXPECT_TRUE(r.done());
    EXPECT_EQ(r.exception(), nullptr);
  });
}

// A coroutine whose result is a Future returns the Future itself; nothing awaits it.
TEST(Task, ACoroutineReturningAFutureReturnsTheFutureItself) {  // TASK-21
  run_virtual([]() -> aio::Coro<void> {
    auto f = aio::get_running_loop().create_future<std::string>();
    auto func = [&]() -> aio::Coro<aio::Future<std::string>> { co_return f; };
    auto set_f = [&]() -> aio::Coro<void> {
      f.set_result("test");
      co_return;
    };
    auto t1 = aio::create_task(func());
    auto t2 = aio::create_task(set_f());
    aio::Future<std::string> r = co_await t1;
    EXPECT_TRUE(r == f);
    co_await t2;
    EXPECT_TRUE(t2.done());
    EXPECT_EQ(r.result(), "test");
  });
}

aio::Coro<std::string> notmuch() {
  co_return "abc";
}

TEST(Task, ReprLifeCycle) {  // TASK-30
  run_virtual([]() -> aio::Coro<void> {
    auto t = aio::create_task(notmuch(), "named");
    EXPECT_EQ(t.repr(), "<Task pending name='named' coro=<notmuch()>>");
    EXPECT_EQ(co_await t, "abc");
    EXPECT_EQ(t.repr(), "<Task finished name='named' coro=<notmuch()> result='abc'>");
    EXPECT_EQ(static_cast<aio::TaskRef>(t).repr(), t.repr());

    auto c = aio::create_task(notmuch(), "c");
    c.cancel();
    EXPECT_NE(c.repr().find("cancelling"), std::string::npos) << c.repr();
    EXPECT_THROW(co_await c, aio::CancelledError);
    EXPECT_EQ(c.repr().rfind("<Task cancelled", 0), 0u) << c.repr();
  });
}

}  // namespace
