// create_connection's happy eyeballs (ConnectOptions::happy_eyeballs_delay, RFC 8305) and the
// errors of a connection no address took, on loopback only: the empty host resolves to ::1 and
// 127.0.0.1 (getaddrinfo's loopback answer, as asyncio's host=None), one port on both. An
// address whose listener's queue is full (listen(0) and one connection waiting) drops the SYN,
// so connecting to it hangs: the stand-in for an unreachable address. On virtual time, so the
// delay is exact.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

#include "support/descriptors.hpp"
#include "support/protocols.hpp"
#include "support/virtual_loop.hpp"

namespace {

using aio::Coro;
using aio::SocketAddress;
using aio::testing::now;
using aio::testing::Recorder;

// Sockets bound to ::1 and 127.0.0.1 on one port, nothing listening yet (a connection to
// either is refused); nullopt where there is no IPv6 loopback.
struct BothLoopbacks {
  aio::Socket v6{aio::AddressFamily::ipv6, aio::SocketType::stream};
  aio::Socket v4{aio::AddressFamily::ipv4, aio::SocketType::stream};
  std::uint16_t port = 0;
};

std::optional<BothLoopbacks> bind_both_loopbacks() {
  for (int tries = 0; tries < 20; ++tries) {
    BothLoopbacks b;
    try {
      b.v6.bind(SocketAddress::ip("::1", 0));
      b.port = b.v6.sockname().port();
      b.v4.bind(SocketAddress::ip("127.0.0.1", b.port));
      return b;
    } catch (const std::system_error& e) {
      if (e.code() != std::errc::address_in_use) return std::nullopt;  // no IPv6 here
    }
  }
  return std::nullopt;
}

// Whether the empty host gives ::1 then 127.0.0.1, the order these tests rely on.
Coro<bool> loopbacks_in_order(std::uint16_t port) {
  std::vector<aio::AddressInfo> infos = co_await aio::getaddrinfo("", port);
  co_return infos.size() == 2 && infos[0].address == SocketAddress::ip("::1", port) &&
      infos[1].address == SocketAddress::ip("127.0.0.1", port);
}

// A listener whose queue is full: a further connect to it hangs.
Coro<aio::Socket> fill_queue(aio::Socket& listener) {
  listener.listen(0);
  aio::Socket waiting(listener.family(), aio::SocketType::stream);
  co_await aio::get_running_loop().sock_connect(waiting, listener.sockname());
  co_return waiting;
}

aio::ConnectOptions eyeballs(double delay) {
  aio::ConnectOptions options;
  options.happy_eyeballs_delay = delay;
  return options;
}

class HappyEyeballs : public testing::Test {
 protected:
  void SetUp() override {
    sockets_ = bind_both_loopbacks();
    if (!sockets_) {
      GTEST_SKIP() << "no IPv6 loopback here";
    }
    if (!aio::run(loopbacks_in_order(sockets_->port))) {
      sockets_.reset();
      GTEST_SKIP() << "getaddrinfo does not give ::1 before 127.0.0.1 here";
    }
    before_ = aio::testing::open_descriptors();
  }
  void TearDown() override {
    if (sockets_) {
      EXPECT_EQ(aio::testing::open_descriptors(), before_) << "descriptors leaked";
    }
  }
  std::optional<BothLoopbacks> sockets_;

 private:
  int before_ = 0;
};

// test_staggered.test_first_timeout_second_successful: ::1 hangs, so 127.0.0.1's attempt
// starts after the delay and wins; the hanging one is cancelled and its socket closed.
TEST_F(HappyEyeballs, AnAddressThatHangsGivesWayToTheNextAfterTheDelay) {
  auto body = [this]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    const std::uint16_t port = sockets_->port;
    aio::Socket waiting = co_await fill_queue(sockets_->v6);
    sockets_->v4.listen();
    auto accepted = loop.create_task(loop.sock_accept(sockets_->v4));
    auto client = std::make_shared<Recorder>();
    auto factory = [client] { return client; };
    const double start = now();
    auto [transport, protocol] = co_await loop.create_connection(factory, "", port, eyeballs(0.25));
    EXPECT_DOUBLE_EQ(now() - start, 0.25);
    EXPECT_EQ(std::any_cast<SocketAddress>(transport->get_extra_info("peername")),
              SocketAddress::ip("127.0.0.1", port));
    EXPECT_EQ(protocol, client);
    co_await std::move(accepted);
    transport->close();
    co_await aio::testing::yield0();  // the cancelled attempt unwinds
  };
  aio::run(body(), aio::testing::virtual_time);
}

// test_staggered.test_first_error_second_successful: ::1 refuses, and 127.0.0.1's attempt
// starts at once, without waiting for the delay.
TEST_F(HappyEyeballs, AFailedAttemptStartsTheNextAtOnce) {
  auto body = [this]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    const std::uint16_t port = sockets_->port;
    sockets_->v4.listen();
    auto accepted = loop.create_task(loop.sock_accept(sockets_->v4));
    aio::ProtocolFactory factory = aio::testing::fresh<Recorder>();
    const double start = now();
    auto pair = co_await loop.create_connection(factory, "", port, eyeballs(10));
    EXPECT_DOUBLE_EQ(now() - start, 0.0);
    EXPECT_EQ(std::any_cast<SocketAddress>(pair.first->get_extra_info("peername")),
              SocketAddress::ip("127.0.0.1", port));
    co_await std::move(accepted);
    pair.first->close();
    co_await aio::testing::yield0();
  };
  aio::run(body(), aio::testing::virtual_time);
}

// test_base_events.test_create_connection_multiple_errors, test_staggered.test_none_successful:
// every address refused. The messages differ (each names its address), so asyncio's combined
// error; raced or one at a time, the same.
TEST_F(HappyEyeballs, EveryAddressFailingGivesAsyncioSCombinedError) {
  auto body = [this]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    const std::string port = std::to_string(sockets_->port);
    aio::ProtocolFactory factory = aio::testing::fresh<Recorder>();
    for (std::optional<double> delay : {std::optional<double>(0.25), std::optional<double>()}) {
      aio::ConnectOptions options;
      if (delay) options = eyeballs(*delay);
      try {
        co_await loop.create_connection(factory, "", port, options);
        ADD_FAILURE() << "connected where nobody listens";
      } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::connection_refused);
        EXPECT_EQ(std::string(e.what()), "Multiple exceptions: connect to [::1]:" + port +
                                             ": Connection refused, connect to 127.0.0.1:" + port +
                                             ": Connection refused");
      }
    }
    // One address: its own error, as it was.
    try {
      co_await loop.create_connection(factory, "127.0.0.1", port, eyeballs(0.25));
      ADD_FAILURE() << "connected where nobody listens";
    } catch (const std::system_error& e) {
      EXPECT_EQ(std::string(e.what()), "connect to 127.0.0.1:" + port + ": Connection refused");
    }
  };
  aio::run(body(), aio::testing::virtual_time);
}

// Cancelling create_connection while it races cancels every attempt, and their sockets close.
TEST_F(HappyEyeballs, CancellingTheConnectionCancelsEveryAttempt) {
  auto body = [this]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    const std::uint16_t port = sockets_->port;
    aio::Socket waiting_v6 = co_await fill_queue(sockets_->v6);
    aio::Socket waiting_v4 = co_await fill_queue(sockets_->v4);
    aio::ProtocolFactory factory = aio::testing::fresh<Recorder>();
    auto connecting = loop.create_task(loop.create_connection(factory, "", port, eyeballs(0.25)));
    co_await aio::sleep(1);  // both attempts started and hang
    EXPECT_FALSE(connecting.done());
    connecting.cancel();
    try {
      co_await connecting;
      ADD_FAILURE() << "connected to a full queue";
    } catch (const aio::CancelledError&) {
    }
    co_await aio::testing::yield0();  // the attempts unwind
  };
  aio::run(body(), aio::testing::virtual_time);
}

// Without happy eyeballs an address that hangs holds the connection up (each waited for), and
// open_connection takes the option as create_connection does.
TEST_F(HappyEyeballs, OpenConnectionRacesTheAddressesToo) {
  auto body = [this]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    const std::uint16_t port = sockets_->port;
    aio::Socket waiting = co_await fill_queue(sockets_->v6);
    sockets_->v4.listen();
    auto accepted = loop.create_task(loop.sock_accept(sockets_->v4));
    auto plain = loop.create_task(aio::open_connection("", port));
    co_await aio::sleep(5);
    EXPECT_FALSE(plain.done());  // still on ::1
    plain.cancel();
    const double start = now();
    auto [reader, writer] = co_await aio::open_connection("", port, eyeballs(0.3));
    EXPECT_DOUBLE_EQ(now() - start, 0.3);
    EXPECT_EQ(writer.peername(), SocketAddress::ip("127.0.0.1", port));
    co_await std::move(accepted);
    writer.close();
    co_await aio::testing::yield0();
  };
  aio::run(body(), aio::testing::virtual_time);
}

}  // namespace
