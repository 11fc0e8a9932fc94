// The loop's socket methods, add_reader/add_writer and getaddrinfo, on loopback.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>

#include <aio/aio.hpp>

namespace {

using aio::AddressFamily;
using aio::Coro;
using aio::Socket;
using aio::SocketAddress;
using aio::SocketType;

// A listening socket on an ephemeral loopback port.
Socket listener(AddressFamily family) {
  Socket s(family, SocketType::stream);
  s.set_reuse_address();
  s.bind(SocketAddress::ip(family == AddressFamily::ipv4 ? "127.0.0.1" : "::1", 0));
  s.listen();
  return s;
}

// A connected pair of Unix stream sockets.
std::pair<Socket, Socket> socket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
    throw std::system_error(errno, std::system_category(), "socketpair");
  }
  return {Socket::adopt(fds[0]), Socket::adopt(fds[1])};
}

Coro<std::string> echo_once(AddressFamily family) {
  aio::EventLoop& loop = aio::get_running_loop();
  Socket server = listener(family);
  const SocketAddress address = server.sockname();
  auto serve = [](aio::EventLoop& l, Socket& srv) -> Coro<void> {
    auto accepted = co_await l.sock_accept(srv);
    std::string data = co_await l.sock_recv(accepted.first, 100);
    co_await l.sock_sendall(accepted.first, "echo:" + data);
  };
  aio::Task<void> t = loop.create_task(serve(loop, server));
  Socket client(family, SocketType::stream);
  co_await loop.sock_connect(client, address);
  co_await loop.sock_sendall(client, "hello");
  std::string reply;
  for (;;) {
    std::string chunk = co_await loop.sock_recv(client, 100);
    if (chunk.empty()) break;
    reply += chunk;
  }
  co_await t;
  co_return reply;
}

TEST(Sockets, EchoOverIPv4) {
  EXPECT_EQ(aio::run(echo_once(AddressFamily::ipv4)), "echo:hello");
}

TEST(Sockets, EchoOverIPv6) {
  EXPECT_EQ(aio::run(echo_once(AddressFamily::ipv6)), "echo:hello");
}

TEST(Sockets, ConnectToAClosedPortIsRefused) {
  auto body = []() -> Coro<void> {
    // Bind a port and close it: nothing listens there now.
    SocketAddress address;
    {
      Socket s = listener(AddressFamily::ipv4);
      address = s.sockname();
    }
    Socket client(AddressFamily::ipv4, SocketType::stream);
    try {
      co_await aio::get_running_loop().sock_connect(client, address);
      ADD_FAILURE() << "connect succeeded";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_refused);
      EXPECT_NE(std::string(e.what()).find(address.to_string()), std::string::npos) << e.what();
    }
  };
  aio::run(body());
}

TEST(Sockets, RecvIsCancellable) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto sockets = socket_pair();
    Socket& a = sockets.first;
    Socket& b = sockets.second;
    aio::Task<std::string> t = loop.create_task(loop.sock_recv(a, 10));
    co_await aio::sleep(0);
    co_await aio::sleep(0);
    EXPECT_FALSE(t.done());
    t.cancel();
    try {
      co_await t;
      ADD_FAILURE() << "not cancelled";
    } catch (const aio::CancelledError&) {
    }
    // The socket is usable afterwards, and no stale wait remains.
    co_await loop.sock_sendall(b, "x");
    EXPECT_EQ(co_await loop.sock_recv(a, 10), "x");
  };
  aio::run(body());
}

TEST(Sockets, AcceptIsCancellableAndTheListenerStaysUsable) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    Socket server = listener(AddressFamily::ipv4);
    aio::Task<std::pair<Socket, SocketAddress>> pending =
        loop.create_task(loop.sock_accept(server));
    co_await aio::sleep(0);
    pending.cancel("enough");
    try {
      co_await std::move(pending);
      ADD_FAILURE() << "not cancelled";
    } catch (const aio::CancelledError& e) {
      EXPECT_EQ(e.message(), "enough");
    }
    Socket client(AddressFamily::ipv4, SocketType::stream);
    co_await loop.sock_connect(client, server.sockname());
    auto accepted = co_await loop.sock_accept(server);
    EXPECT_TRUE(static_cast<bool>(accepted.first));
    EXPECT_EQ(accepted.second, client.sockname());
  };
  aio::run(body());
}

// test_sock_lowlevel: test_cancel_sock_accept. An accept cancelled by wait_for() lets go of the
// listener: once it is closed, a connect is refused (on io_uring the pending request held the
// listening socket open, and the connect was accepted by the kernel, then reset). The listener
// is closed outside the running loop, as in asyncio's test.
TEST(Sockets, AConnectAfterACancelledAcceptAndTheListenerClosedIsRefused) {
  aio::EventLoop loop;
  Socket server = listener(AddressFamily::ipv4);
  const SocketAddress address = server.sockname();
  auto accept_briefly = [&]() -> Coro<void> {
    co_await aio::wait_for(loop.sock_accept(server), 0.1);
  };
  EXPECT_THROW(loop.run_until_complete(accept_briefly()), aio::TimeoutError);
  server.close();
  Socket client(AddressFamily::ipv4, SocketType::stream);
  try {
    loop.run_until_complete(loop.sock_connect(client, address));
    ADD_FAILURE() << "connect succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::connection_refused) << e.what();
  }
}

// test_sock_lowlevel: _basetest_sock_client_ops. In debug mode every sock_* method refuses a
// blocking socket (std::invalid_argument, asyncio's ValueError); outside it, they run.
TEST(Sockets, DebugModeRefusesABlockingSocket) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto sockets = socket_pair();
    Socket& a = sockets.first;
    Socket& b = sockets.second;
    ::fcntl(a.fileno(), F_SETFL, ::fcntl(a.fileno(), F_GETFL) & ~O_NONBLOCK);
    loop.set_debug(true);
    char buf[8];
    int refused = 0;
    auto expect_refused = [&](const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "the socket must be non-blocking");
      ++refused;
    };
    // One at a time: a coroutine may throw when called or when awaited.
    try {
      co_await loop.sock_recv(a, 1);
    } catch (const std::invalid_argument& e) {
      expect_refused(e);
    }
    try {
      co_await loop.sock_recv_into(a, buf);
    } catch (const std::invalid_argument& e) {
      expect_refused(e);
    }
    try {
      co_await loop.sock_sendall(a, "x");
    } catch (const std::invalid_argument& e) {
      expect_refused(e);
    }
    try {
      co_await loop.sock_connect(a, SocketAddress::ip("127.0.0.1", 9));
    } catch (const std::invalid_argument& e) {
      expect_refused(e);
    }
    try {
      co_await loop.sock_accept(a);
    } catch (const std::invalid_argument& e) {
      expect_refused(e);
    }
    try {
      co_await loop.sock_recvfrom(a, 1);
    } catch (const std::invalid_argument& e) {
      expect_refused(e);
    }
    try {
      co_await loop.sock_sendto(a, "x", SocketAddress::ip("127.0.0.1", 9));
    } catch (const std::invalid_argument& e) {
      expect_refused(e);
    }
    EXPECT_EQ(refused, 7);
    loop.set_debug(false);
    co_await loop.sock_sendall(a, "runs");  // a blocking send the kernel takes at once
    EXPECT_EQ(co_await loop.sock_recv(b, 8), "runs");
  };
  aio::run(body());
}

TEST(Sockets, RecvIntoAndNegativeSizes) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto sockets = socket_pair();
    Socket& a = sockets.first;
    Socket& b = sockets.second;
    co_await loop.sock_sendall(b, "abcdef");
    char buf[4];
    EXPECT_EQ(co_await loop.sock_recv_into(a, buf), 4u);
    EXPECT_EQ(std::string(buf, 4), "abcd");
    EXPECT_THROW(co_await loop.sock_recv(a, -1), std::invalid_argument);
    Socket closed;
    EXPECT_THROW(co_await loop.sock_recv(closed, 1), std::invalid_argument);
  };
  aio::run(body());
}

TEST(Sockets, SendallLargerThanTheSocketBuffer) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto sockets = socket_pair();
    Socket& a = sockets.first;
    Socket& b = sockets.second;
    const std::string big(4 << 20, 'z');
    auto reader = [](aio::EventLoop& l, Socket& s, std::size_t want) -> Coro<std::size_t> {
      std::size_t got = 0;
      while (got < want) got += (co_await l.sock_recv(s, 65536)).size();
      co_return got;
    };
    aio::Task<std::size_t> r = loop.create_task(reader(loop, a, big.size()));
    co_await loop.sock_sendall(b, big);
    EXPECT_EQ(co_await r, big.size());
  };
  aio::run(body());
}

TEST(Sockets, SendToAPeerThatClosedIsBrokenPipeNotSigpipe) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto sockets = socket_pair();
    Socket& a = sockets.first;
    Socket& b = sockets.second;
    a.close();
    try {
      co_await loop.sock_sendall(b, "into the void");
      ADD_FAILURE() << "send succeeded";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::broken_pipe);
    }
  };
  aio::run(body());
}

TEST(Sockets, UdpSendtoRecvfrom) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    Socket a(AddressFamily::ipv4, SocketType::datagram);
    a.bind(SocketAddress::ip("127.0.0.1", 0));
    Socket b(AddressFamily::ipv4, SocketType::datagram);
    b.bind(SocketAddress::ip("127.0.0.1", 0));
    EXPECT_EQ(co_await loop.sock_sendto(b, "ping", a.sockname()), 4u);
    auto got = co_await loop.sock_recvfrom(a, 100);
    EXPECT_EQ(got.first, "ping");
    EXPECT_EQ(got.second, b.sockname());
  };
  aio::run(body());
}

TEST(Sockets, AddReaderFiresWhileReadableAndStopsWhenRemoved) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto sockets = socket_pair();
    Socket& a = sockets.first;
    Socket& b = sockets.second;
    int calls = 0;
    std::string got;
    loop.add_reader(a.fileno(), [&] {
      ++calls;
      char c;
      if (::read(a.fileno(), &c, 1) == 1) got += c;  // one byte per call: level-triggered
    });
    co_await loop.sock_sendall(b, "abc");
    for (int i = 0; i < 10 && got.size() < 3; ++i) co_await aio::sleep(0.001);
    EXPECT_EQ(got, "abc");
    EXPECT_EQ(calls, 3);
    EXPECT_TRUE(loop.remove_reader(a.fileno()));
    EXPECT_FALSE(loop.remove_reader(a.fileno()));
    co_await loop.sock_sendall(b, "d");
    co_await aio::sleep(0.01);
    EXPECT_EQ(got, "abc");
    bool writable = false;
    loop.add_writer(b.fileno(), [&] {
      writable = true;
      loop.remove_writer(b.fileno());  // removing itself from inside the callback
    });
    co_await aio::sleep(0.001);
    EXPECT_TRUE(writable);
  };
  aio::run(body());
}

// test_events: test_add_reader_or_writer_transport_fd. A socket an open transport owns cannot
// be watched with add_reader/add_writer (nor unwatched), where both would fire; once the
// transport is closing, it can.
TEST(Sockets, AddReaderOnASocketATransportOwnsIsRefused) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto sockets = socket_pair();
    const int fd = sockets.first.fileno();
    aio::ProtocolFactory factory = [] { return std::make_shared<aio::Protocol>(); };
    auto pair = co_await loop.connect_accepted_socket(std::move(factory), std::move(sockets.first));
    auto cb = [] {};
    const std::string used = "File descriptor " + std::to_string(fd) + " is used by transport <";
    for (int call = 0; call < 4; ++call) {
      try {
        if (call == 0) loop.add_reader(fd, cb);
        if (call == 1) loop.add_writer(fd, cb);
        if (call == 2) loop.remove_reader(fd);
        if (call == 3) loop.remove_writer(fd);
        ADD_FAILURE() << "call " << call << " accepted";
      } catch (const aio::RuntimeError& e) {
        EXPECT_EQ(std::string(e.what()).rfind(used, 0), 0u) << e.what();
      }
    }
    pair.first->close();
    loop.add_reader(fd, cb);  // closing: no longer the transport's
    EXPECT_TRUE(loop.remove_reader(fd));
    co_await aio::sleep(0);
  };
  aio::run(body());
}

TEST(Sockets, GetaddrinfoResolvesLocalhostAndReportsFailure) {
  auto body = []() -> Coro<void> {
    auto infos = co_await aio::getaddrinfo("localhost", 80);
    EXPECT_FALSE(infos.empty());
    bool loopback = false;
    for (const auto& info : infos) {
      loopback = loopback || info.address.host() == "127.0.0.1" || info.address.host() == "::1";
      EXPECT_EQ(info.address.port(), 80);
    }
    EXPECT_TRUE(loopback);
    auto numeric = co_await aio::getaddrinfo("::1", 7);
    EXPECT_EQ(numeric.size(), 1u);
    if (!numeric.empty()) {
      EXPECT_EQ(numeric[0].address.to_string(), "[::1]:7");
    }
    EXPECT_THROW(co_await aio::getaddrinfo("no-such-host.invalid", 80), std::system_error);
  };
  aio::run(body());
}

TEST(Sockets, AddressesFormatAndValidate) {
  EXPECT_EQ(SocketAddress::ip("127.0.0.1", 8888).to_string(), "127.0.0.1:8888");
  EXPECT_EQ(SocketAddress::ip("[::1]", 1).to_string(), "[::1]:1");
  EXPECT_EQ(SocketAddress::unix_path("/tmp/x.sock").to_string(), "/tmp/x.sock");
  EXPECT_THROW(SocketAddress::ip("localhost", 1), std::invalid_argument);
  EXPECT_THROW(SocketAddress::unix_path(std::string(200, 'a')), std::invalid_argument);
  EXPECT_THROW(SocketAddress::unix_path(""), std::invalid_argument);
}

}  // namespace
