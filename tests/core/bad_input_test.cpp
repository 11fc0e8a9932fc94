// Bad input across the API, in one place: each misuse ends in asyncio's exception (ValueError is
// std::invalid_argument, RuntimeError aio::RuntimeError, InvalidStateError
// aio::InvalidStateError) with a message that says what was wrong, and leaves nothing behind.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>

#include <aio/aio.hpp>

namespace {

using aio::Coro;

// Runs `f` and checks it throws E with `what` inside its message.
template <class E, class F>
void expect_error(F&& f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one saying: " << what;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

const double nan = std::numeric_limits<double>::quiet_NaN();

TEST(BadInput, NaNDurationsAreValueErrors) {
  expect_error<std::invalid_argument>([] { (void)aio::sleep(nan); }, "NaN");
  aio::run([]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    expect_error<std::invalid_argument>([&] { loop.call_later(nan, [] {}); }, "NaN");
    expect_error<std::invalid_argument>([&] { (void)aio::wait_for(aio::sleep(0), nan); }, "NaN");
    expect_error<std::invalid_argument>([&] { (void)aio::timeout(nan, aio::sleep(0)); }, "NaN");
    co_return;
  }());
}

TEST(BadInput, NegativeAndInfiniteDurationsAreWhatAsyncioMakesOfThem) {
  aio::run(
      []() -> Coro<void> {
        aio::EventLoop& loop = aio::get_running_loop();
        const double start = loop.time();
        co_await aio::sleep(-5);  // as sleep(0)
        EXPECT_EQ(loop.time(), start);
        bool timed_out = false;
        try {
          co_await aio::wait_for(aio::sleep(1), -1);  // as 0: times out at once
        } catch (const aio::TimeoutError&) {
          timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        // An infinite timeout is no timeout.
        co_await aio::wait_for(aio::sleep(1), std::numeric_limits<double>::infinity());
        EXPECT_EQ(loop.time(), start + 1);
      }(),
      {.virtual_time = true});
}

TEST(BadInput, QueueAndSemaphoreSizes) {
  // asyncio: maxsize <= 0 is an unbounded queue.
  aio::run([]() -> Coro<void> {
    aio::Queue<int> zero(0);
    aio::Queue<int> negative(-3);
    for (int i = 0; i < 1000; ++i) {
      zero.put_nowait(i);
      negative.put_nowait(i);
    }
    EXPECT_FALSE(zero.full());
    EXPECT_FALSE(negative.full());
    co_return;
  }());
  expect_error<std::invalid_argument>([] { aio::Semaphore s(-1); }, "Semaphore initial value");
  aio::run([]() -> Coro<void> {
    aio::BoundedSemaphore b(1);
    expect_error<std::invalid_argument>([&] { b.release(); },
                                        "BoundedSemaphore released too many times");
    co_return;
  }());
}

TEST(BadInput, StreamReaderSizes) {
  expect_error<std::invalid_argument>([] { aio::StreamReader r(0); }, "Limit cannot be <= 0");
  expect_error<std::invalid_argument>([] { aio::StreamReader r(-1); }, "Limit cannot be <= 0");
  aio::run([]() -> Coro<void> {
    aio::StreamReader r;
    r.feed_data("abc");
    bool raised = false;
    try {
      co_await r.readexactly(-1);
    } catch (const std::invalid_argument& e) {
      raised = true;
      EXPECT_NE(std::string(e.what()).find("less than zero"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(raised);
    raised = false;
    try {
      co_await r.readuntil("");
    } catch (const std::invalid_argument& e) {
      raised = true;
      EXPECT_NE(std::string(e.what()).find("Separator should"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(co_await r.read(2), "ab");  // nothing was consumed by the errors
  }());
}

TEST(BadInput, AddressesAndPorts) {
  expect_error<std::invalid_argument>([] { (void)aio::SocketAddress::ip("300.1.2.3", 80); },
                                      "300.1.2.3");
  aio::run([]() -> Coro<void> {
    bool raised = false;
    try {
      co_await aio::open_connection("127.0.0.1", 0);  // no one listens on port 0
    } catch (const std::system_error& e) {
      raised = true;
      EXPECT_NE(std::string(e.what()).find("127.0.0.1:0"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(raised);
    raised = false;
    try {
      co_await aio::start_server(
          [](aio::StreamReader, aio::StreamWriter) -> Coro<void> { co_return; }, "203.0.113.1",
          0);  // an address this host does not have
    } catch (const std::system_error& e) {
      raised = true;
      EXPECT_EQ(e.code(), std::errc::address_not_available) << e.what();
    }
    EXPECT_TRUE(raised);
  }());
}

TEST(BadInput, AClosedLoop) {
  aio::EventLoop loop;
  loop.close();
  expect_error<aio::RuntimeError>([&] { loop.call_soon([] {}); }, "Event loop is closed");
  expect_error<aio::RuntimeError>([&] { loop.call_later(1, [] {}); }, "Event loop is closed");
  expect_error<aio::RuntimeError>([&] { loop.run_until_complete(aio::sleep(0)); },
                                  "Event loop is closed");
  expect_error<aio::RuntimeError>([&] { (void)loop.create_future<int>(); }, "Event loop is closed");
  loop.close();  // twice is fine
}

TEST(BadInput, DoubleAwaitsAndDoubleResults) {
  aio::run([]() -> Coro<void> {
    auto make = []() -> Coro<int> { co_return 1; };
    Coro<int> c = make();
    EXPECT_EQ(co_await c, 1);
    bool raised = false;
    try {
      co_await c;
    } catch (const aio::RuntimeError& e) {
      raised = true;
      EXPECT_NE(std::string(e.what()).find("cannot reuse already awaited coroutine"),
                std::string::npos)
          << e.what();
    }
    EXPECT_TRUE(raised);
    // A Task may be awaited any number of times: the same result each time.
    aio::Task<int> t = aio::create_task(make());
    EXPECT_EQ(co_await t, 1);
    EXPECT_EQ(co_await t, 1);
    aio::Future<int> f = aio::get_running_loop().create_future<int>();
    f.set_result(2);
    expect_error<aio::InvalidStateError>([&] { f.set_result(3); }, "invalid state");
    EXPECT_EQ(co_await f, 2);
  }());
}

TEST(BadInput, RunningALoopInsideItself) {
  aio::run([]() -> Coro<void> {
    expect_error<aio::RuntimeError>(
        [] { aio::get_running_loop().run_until_complete(aio::sleep(0)); },
        "This event loop is already running");
    expect_error<aio::RuntimeError>([] { aio::run([]() -> Coro<void> { co_return; }()); },
                                    "cannot be called from a running event loop");
    co_return;
  }());
}

}  // namespace
