// Datagram endpoints (loop.create_datagram_endpoint): UDP between two endpoints, errors a send
// brings back, allow_broadcast, and Unix datagram sockets.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <any>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

#include "support/protocols.hpp"

namespace {

using aio::Coro;
using aio::testing::wait_until;

template <class P>
aio::DatagramProtocolFactory share_datagram(std::shared_ptr<P> p) {
  return [p] { return p; };
}

struct Datagrams : aio::DatagramProtocol {
  std::shared_ptr<aio::DatagramTransport> transport;
  std::vector<std::pair<std::string, aio::SocketAddress>> got;
  std::vector<std::string> errors;
  bool echo = false;
  void connection_made(std::shared_ptr<aio::DatagramTransport> t) override {
    transport = std::move(t);
  }
  void datagram_received(std::string_view d, const aio::SocketAddress& from) override {
    got.emplace_back(std::string(d), from);
    if (echo) transport->sendto(d, from);
  }
  void error_received(std::exception_ptr e) override {
    try {
      std::rethrow_exception(e);
    } catch (const std::system_error& err) {
      errors.push_back(err.what());
    }
  }
  void connection_lost(std::exception_ptr) override { transport.reset(); }
};

TEST(Datagrams, UdpEchoBetweenTwoEndpoints) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto server = std::make_shared<Datagrams>();
    server->echo = true;
    aio::DatagramOptions server_options;
    server_options.local_addr = aio::SocketAddress::ip("127.0.0.1", 0);
    auto s = co_await loop.create_datagram_endpoint(share_datagram(server), server_options);
    auto address = std::any_cast<aio::SocketAddress>(s.first->get_extra_info("sockname"));
    auto client = std::make_shared<Datagrams>();
    aio::DatagramOptions client_options;
    client_options.remote_addr = address;
    auto c = co_await loop.create_datagram_endpoint(share_datagram(client), client_options);
    c.first->sendto("one");
    c.first->sendto("two");
    co_await wait_until([&] { return client->got.size() == 2; });
    EXPECT_EQ(client->got[0].first, "one");
    EXPECT_EQ(client->got[1].first, "two");
    EXPECT_EQ(server->got.size(), 2u);
    EXPECT_THROW(c.first->sendto("x", aio::SocketAddress::ip("127.0.0.1", 9)),
                 std::invalid_argument);
    c.first->close();
    s.first->close();
    co_await aio::sleep(0);
  };
  aio::run(body());
}

TEST(Datagrams, UdpToAClosedPortReportsErrorReceived) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::SocketAddress dead;
    {
      aio::Socket probe(aio::AddressFamily::ipv4, aio::SocketType::datagram);
      probe.bind(aio::SocketAddress::ip("127.0.0.1", 0));
      dead = probe.sockname();
    }
    auto client = std::make_shared<Datagrams>();
    aio::DatagramOptions options;
    options.remote_addr = dead;
    auto c = co_await loop.create_datagram_endpoint(share_datagram(client), options);
    c.first->sendto("anyone?");
    co_await aio::sleep(0.01);
    c.first->sendto("anyone?");  // the ICMP error of the first surfaces on a later call
    co_await wait_until([&] { return !client->errors.empty(); });
    c.first->close();
  };
  aio::run(body());
}

// test_base_events: test_create_datagram_endpoint_allow_broadcast. With allow_broadcast the
// socket is not connected to remote_addr (a broadcast address would refuse), yet sendto()
// without an address still goes there, and another address is refused.
TEST(Datagrams, AllowBroadcastLeavesTheSocketUnconnected) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto receiver = std::make_shared<Datagrams>();
    aio::DatagramOptions receiver_options;
    receiver_options.local_addr = aio::SocketAddress::ip("127.0.0.1", 0);
    auto r = co_await loop.create_datagram_endpoint(share_datagram(receiver), receiver_options);
    const auto address = std::any_cast<aio::SocketAddress>(r.first->get_extra_info("sockname"));
    auto sender = std::make_shared<Datagrams>();
    aio::DatagramOptions options;
    options.remote_addr = address;
    options.allow_broadcast = true;
    auto s = co_await loop.create_datagram_endpoint(share_datagram(sender), options);
    EXPECT_FALSE(s.first->get_extra_info("peername").has_value()) << "connected";
    s.first->sendto("to the remote address");
    s.first->sendto("named", address);
    co_await wait_until([&] { return receiver->got.size() == 2; });
    EXPECT_EQ(receiver->got[0].first, "to the remote address");
    EXPECT_THROW(s.first->sendto("x", aio::SocketAddress::ip("127.0.0.1", 9)),
                 std::invalid_argument);
    s.first->close();
    r.first->close();
    co_await aio::sleep(0);
  };
  aio::run(body());
}

// A stale Unix socket file at local_addr is removed before binding, as asyncio does (a file of
// another kind is left alone: binding over it fails).
TEST(Datagrams, AStaleUnixSocketFileAtLocalAddrIsReplaced) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    const std::string path = "/tmp/aio-" + std::to_string(::getpid()) + "-datagram.sock";
    const aio::SocketAddress address = aio::SocketAddress::unix_path(path);
    {
      aio::Socket stale(aio::AddressFamily::unix_domain, aio::SocketType::datagram);
      stale.bind(address);  // closed with its file left behind
    }
    auto receiver = std::make_shared<Datagrams>();
    aio::DatagramOptions options;
    options.local_addr = address;
    auto r = co_await loop.create_datagram_endpoint(share_datagram(receiver), options);
    aio::Socket sender(aio::AddressFamily::unix_domain, aio::SocketType::datagram);
    co_await loop.sock_sendto(sender, "fresh", address);
    co_await wait_until([&] { return receiver->got.size() == 1; });
    r.first->close();
    co_await aio::sleep(0);
    ::unlink(path.c_str());

    std::ofstream(path) << "not a socket";
    bool refused = false;
    try {
      co_await loop.create_datagram_endpoint(share_datagram(receiver), options);
    } catch (const std::system_error& e) {
      refused = e.code() == std::errc::address_in_use;
    }
    EXPECT_TRUE(refused);
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    ::unlink(path.c_str());
  };
  aio::run(body());
}

}  // namespace
