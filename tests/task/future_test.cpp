// asyncio's Future behaviours (asyncio-behaviours.md FUT-*), on virtual time.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "support/virtual_loop.hpp"

namespace {

using aio::testing::run_virtual;
using aio::testing::yield0;

TEST(Future, PendingFutureRefusesResultAndException) {  // FUT-01
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> f;
    EXPECT_FALSE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_THROW(f.result(), aio::InvalidStateError);
    EXPECT_THROW(f.exception(), aio::InvalidStateError);
    co_return;
  });
}

TEST(Future, CancelStateMachine) {  // FUT-02
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> f;
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
    EXPECT_THROW(f.result(), aio::CancelledError);
    EXPECT_THROW(f.exception(), aio::CancelledError);
    EXPECT_THROW(f.set_result(1), aio::InvalidStateError);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                 aio::InvalidStateError);
    EXPECT_FALSE(f.cancel());
    co_return;
  });
}

TEST(Future, ResultStateMachine) {  // FUT-03
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> f;
    f.set_result(42);
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.result(), 42);
    EXPECT_EQ(f.exception(), nullptr);
    EXPECT_THROW(f.set_result(1), aio::InvalidStateError);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                 aio::InvalidStateError);
    EXPECT_FALSE(f.cancel());
    EXPECT_FALSE(f.cancelled());
    co_return;
  });
}

TEST(Future, ExceptionStateMachine) {  // FUT-04
  run_virtual([]() -> aio::Coro<void> {
    auto exc = std::make_exception_ptr(std::runtime_error("boom"));
    aio::Future<int> f;
    f.set_exception(exc);
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.exception(), exc);
    try {
      f.result();
      ADD_FAILURE() << "result() did not throw";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "boom");
    }
    EXPECT_THROW(f.set_result(1), aio::InvalidStateError);
    EXPECT_FALSE(f.cancel());
    aio::Future<int> g;
    EXPECT_THROW(g.set_exception(nullptr), std::invalid_argument);
    co_return;
  });
}

TEST(Future, DoneCallbacksRunLaterInRegistrationOrder) {  // FUT-05
  for (int how = 0; how < 3; ++how) {
    run_virtual([how]() -> aio::Coro<void> {
      aio::Future<std::string> f;
      std::vector<int> bag;
      std::vector<bool> saw_cancelled;
      f.add_done_callback([&](aio::Future<std::string>& g) {
        bag.push_back(42);
        saw_cancelled.push_back(g.cancelled());
      });
      f.add_done_callback([&](aio::Future<std::string>&) { bag.push_back(17); });
      if (how == 0) f.set_result("foo");
      if (how == 1) f.set_exception(std::make_exception_ptr(std::runtime_error("x")));
      if (how == 2) f.cancel();
      EXPECT_TRUE(bag.empty());
      co_await yield0();
      EXPECT_EQ(bag, (std::vector<int>{42, 17}));
      EXPECT_EQ(saw_cancelled, std::vector<bool>{how == 2});
      if (how == 1) f.exception();
    });
  }
}

TEST(Future, CallbackOnDoneFutureIsScheduledNotCalled) {  // FUT-06
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> f;
    f.set_result(1);
    std::vector<std::string> bag;
    f.add_done_callback([&](aio::Future<int>&) { bag.push_back("late"); });
    EXPECT_TRUE(bag.empty());
    co_await yield0();
    EXPECT_EQ(bag, std::vector<std::string>{"late"});
  });
}

TEST(Future, RemoveDoneCallback) {  // FUT-07 (by id: C++ callables have no equality)
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<std::string> f;
    std::vector<int> bag;
    auto id42 = f.add_done_callback([&](auto&) { bag.push_back(42); });
    f.add_done_callback([&](auto&) { bag.push_back(17); });
    auto id100 = f.add_done_callback([&](auto&) { bag.push_back(100); });
    EXPECT_EQ(f.remove_done_callback(id42), 1u);
    EXPECT_EQ(f.remove_done_callback(id42), 0u);
    EXPECT_EQ(f.remove_done_callback(id100), 1u);
    f.set_result("foo");
    co_await yield0();
    EXPECT_EQ(bag, std::vector<int>{17});
    EXPECT_EQ(f.remove_done_callback(id42), 0u);
  });
}

TEST(Future, CancelMessageReachesTheAwaiter) {  // FUT-08
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> f;
    f.cancel("my message");
    try {
      co_await f;
      ADD_FAILURE();
    } catch (const aio::CancelledError& e) {
      EXPECT_EQ(e.message(), "my message");
    }
    aio::Future<int> g;
    g.cancel();
    try {
      co_await g;
      ADD_FAILURE();
    } catch (const aio::CancelledError& e) {
      EXPECT_EQ(e.message(), "");
    }
  });
}

TEST(Future, AwaitingADoneFutureAgainDoesNotSuspend) {  // FUT-09
  run_virtual([]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    aio::Future<int> f;
    loop.call_soon([f]() mutable { f.set_result(42); });
    int a = co_await f;
    bool ran = false;
    loop.call_soon([&] { ran = true; });
    int b = co_await f;
    EXPECT_EQ(a, 42);
    EXPECT_EQ(b, 42);
    EXPECT_FALSE(ran);              // no trip through the loop
    int c = co_await std::move(f);  // moves the value out
    EXPECT_EQ(c, 42);
  });
}

TEST(Future, NeverRetrievedExceptionIsReported) {  // FUT-10
  std::vector<std::string> messages;
  run_virtual([&]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    loop.set_exception_handler(
        [&](aio::EventLoop&, const aio::ExceptionContext& c) { messages.push_back(c.message); });
    {
      aio::Future<int> f;
      f.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    }
    EXPECT_EQ(messages.size(), 1u);
    EXPECT_NE(messages.at(0).find("Future exception was never retrieved"), std::string::npos);
    for (int action = 0; action < 3; ++action) {
      aio::Future<int> f;
      f.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
      if (action == 0) f.exception();
      if (action == 1) {
        EXPECT_THROW(f.result(), std::runtime_error);
      }
      if (action == 2) {
        EXPECT_FALSE(f.cancel());
      }
    }
    {
      aio::Future<int> f;
      f.set_result(1);
    }
    EXPECT_EQ(messages.size(), 1u);
    co_return;
  });
}

TEST(Future, WakeupOfAWaitingTaskIsAnOrdinaryCallback) {  // FUT-13
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> f;
    std::vector<std::string> log;
    f.add_done_callback([&](auto&) { log.push_back("cb1"); });
    auto waiter = [&]() -> aio::Coro<void> {
      co_await f;
      log.push_back("task resumed");
    };
    auto t = aio::create_task(waiter());
    co_await yield0();
    f.add_done_callback([&](auto&) { log.push_back("cb3"); });
    f.set_result(1);
    co_await yield0();
    EXPECT_EQ(log, (std::vector<std::string>{"cb1", "task resumed", "cb3"}));
    co_await t;
  });
}

TEST(Future, FutureOutsideARunningLoopBindsToTheCurrentLoop) {  // FUT-12
  aio::EventLoop loop({.virtual_time = true});
  aio::set_event_loop(&loop);
  aio::Future<int> f;
  EXPECT_EQ(&f.get_loop(), &loop);
  aio::set_event_loop(nullptr);
  EXPECT_THROW(aio::Future<int>{}, aio::RuntimeError);
}

TEST(Future, AwaitingAFutureOfAnotherLoopFails) {  // FUT-12
  aio::EventLoop other({.virtual_time = true});
  auto foreign = other.create_future<int>();
  EXPECT_THROW(
      aio::run([&]() -> aio::Coro<void> { co_await foreign; }(), aio::testing::virtual_time),
      aio::RuntimeError);
}

TEST(Future, CopiesShareOneStateAndCompareEqual) {
  run_virtual([]() -> aio::Coro<void> {
    aio::Future<int> f;
    aio::Future<int> g = f;
    aio::Future<int> h;
    EXPECT_TRUE(f == g);
    EXPECT_FALSE(f == h);
    g.set_result(3);
    EXPECT_EQ(f.result(), 3);
    co_return;
  });
}

TEST(Future, SetResultOnAClosedLoopWithWaitersIsAnError) {
  aio::EventLoop loop({.virtual_time = true});
  auto f = loop.create_future<int>();
  f.add_done_callback([](auto&) {});
  loop.close();
  EXPECT_THROW(f.set_result(1), aio::RuntimeError);
  EXPECT_TRUE(f.done());
  EXPECT_THROW(loop.create_future<int>(), aio::RuntimeError);
}

TEST(Future, Repr) {  // FUT-11
  run_virtual([]() -> aio::Coro<void> {
    auto& loop = aio::get_running_loop();
    auto f = loop.create_future<int>();
    EXPECT_EQ(f.repr(), "<Future pending>");
    f.cancel();
    EXPECT_EQ(f.repr(), "<Future cancelled>");
    auto g = loop.create_future<int>();
    g.set_result(4);
    EXPECT_EQ(g.repr(), "<Future finished result=4>");
    auto h = loop.create_future<int>();
    h.set_exception(std::make_exception_ptr(aio::RuntimeError("boom")));
    EXPECT_EQ(h.repr(), "<Future finished exception=RuntimeError('boom')>");
    h.exception();  // retrieved: no "never retrieved" report
    auto s = loop.create_future<std::string>();
    s.set_result("it's");
    EXPECT_EQ(s.repr(), "<Future finished result=\"it's\">");
    auto v = loop.create_future<void>();
    v.set_result();
    EXPECT_EQ(v.repr(), "<Future finished result=None>");
    auto d = loop.create_future<double>();
    d.set_result(4);
    EXPECT_EQ(d.repr(), "<Future finished result=4.0>");
    co_return;
  });
}

// asyncio.exceptions' hierarchy, as far as C++ has it: cancellation is not an error, the rest
// are std::exception; the Python-only parts (TimeoutError being the builtin, IncompleteReadError
// an EOFError) have no C++ counterpart.
TEST(Exceptions, TheHierarchyMirrorsAsyncio) {  // MISC-04
  static_assert(std::is_base_of_v<aio::BaseException, aio::CancelledError>);
  static_assert(!std::is_base_of_v<std::exception, aio::CancelledError>);
  static_assert(!std::is_base_of_v<std::exception, aio::KeyboardInterrupt>);
  static_assert(std::is_base_of_v<std::exception, aio::InvalidStateError>);
  static_assert(std::is_base_of_v<std::exception, aio::QueueShutDown>);
  static_assert(std::is_base_of_v<std::exception, aio::LimitOverrunError>);
  static_assert(std::is_base_of_v<std::runtime_error, aio::IncompleteReadError>);
  static_assert(std::is_base_of_v<aio::RuntimeError, aio::BrokenBarrierError>);
  static_assert(std::is_base_of_v<std::runtime_error, aio::TimeoutError>);
  static_assert(std::is_base_of_v<aio::Future<int>, aio::Task<int>>);
  try {
    throw aio::BrokenBarrierError();
  } catch (const aio::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "barrier is broken");
  }
}

}  // namespace
