// loop.sendfile (test_asyncio/test_sendfile.py's SendfileMixin): a file over a transport,
// zero-copy over TCP once the write buffer has drained, read and written through TLS; write()
// refused meanwhile; the file's position after what was sent; what cannot send files refuses.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <any>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include <aio/aio.hpp>

#include "support/descriptors.hpp"
#include "support/files.hpp"
#include "support/protocols.hpp"
#include "support/tls.hpp"
#include "support/virtual_loop.hpp"

namespace {

using aio::Coro;
using aio::testing::Recorder;
using aio::testing::tell;
using aio::testing::TempFile;

const std::string& data() {
  return aio::testing::sendfile_data();
}
constexpr int buf_size = aio::testing::sendfile_buf_size;
const auto size = static_cast<std::int64_t>(data().size());

// MySendfileProto: records, and closes once `close_after` bytes came (0: never).
struct Receiver : Recorder {
  std::size_t close_after = 0;
  void data_received(std::string_view d) override {
    Recorder::data_received(d);
    if (close_after && data.size() >= close_after && transport) transport->close();
  }
};

struct Connection {
  std::shared_ptr<Receiver> server;
  std::shared_ptr<Recorder> client;
  std::shared_ptr<aio::Transport> transport;  // the client's, which sends the file
};

// test_sendfile's prepare_sendfile: a connection with small socket buffers and a small
// high-water mark on the sending side; over TLS when `tls`.
Coro<Connection> connect_pair(bool tls, std::size_t close_after = 0) {
  aio::EventLoop& loop = aio::get_running_loop();
  aio::Socket listener(aio::AddressFamily::ipv4, aio::SocketType::stream);
  listener.bind(aio::SocketAddress::ip("127.0.0.1", 0));
  ::setsockopt(listener.fileno(), SOL_SOCKET, SO_RCVBUF, &buf_size, sizeof buf_size);
  listener.listen(1);
  Connection c{std::make_shared<Receiver>(), std::make_shared<Recorder>(), nullptr};
  c.server->close_after = close_after;
  c.server->lost = loop.create_future<void>();
  c.client->lost = loop.create_future<void>();
  aio::ConnectOptions client_options = tls ? aio::testing::tls_client() : aio::ConnectOptions{};
  aio::AcceptedSocketOptions server_options;
  if (tls) server_options.ssl = aio::testing::server_context();
  auto client_factory = [client = c.client] { return client; };
  auto connecting = loop.create_task(loop.create_connection(
      client_factory, "127.0.0.1", listener.sockname().port(), client_options));
  auto [accepted, peer] = co_await loop.sock_accept(listener);
  auto server_factory = [server = c.server] { return server; };
  co_await loop.connect_accepted_socket(server_factory, std::move(accepted), server_options);
  auto pair = co_await connecting;
  c.transport = pair.first;
  const int fd = std::any_cast<int>(c.transport->get_extra_info("socket"));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf_size, sizeof buf_size);
  c.transport->set_write_buffer_limits(buf_size);
  co_return c;
}

// The client closes; the server reads the rest, then the end, and closes too.
Coro<void> close_and_wait(Connection& c) {
  c.transport->close();
  co_await *c.server->lost;
  co_await *c.client->lost;
}

class Sendfile : public testing::Test {
 protected:
  void SetUp() override {
    (void)aio::testing::TlsCerts::get();
    before_ = aio::testing::open_descriptors();
  }
  void TearDown() override { EXPECT_EQ(aio::testing::open_descriptors(), before_); }

 private:
  int before_ = 0;
};

// test_sendfile, test_sendfile_ssl: zero-copy over TCP (no fallback needed), read and written
// over TLS.
TEST_F(Sendfile, SendsTheWholeFileOverTcpAndTls) {
  for (bool tls : {false, true}) {
    TempFile file(data());
    auto body = [&]() -> Coro<void> {
      Connection c = co_await connect_pair(tls);
      const bool fallback = tls;  // TCP needs none
      const std::int64_t sent =
          co_await aio::get_running_loop().sendfile(*c.transport, file.fd(), 0, {}, fallback);
      co_await close_and_wait(c);
      EXPECT_EQ(sent, size);
      EXPECT_EQ(c.server->data.size(), data().size());
      EXPECT_TRUE(c.server->data == data());
      EXPECT_EQ(tell(file.fd()), size);
    };
    aio::run(body());
  }
}

// test_sendfile_pre_and_post_data, test_sendfile_ssl_pre_and_post_data: what was written before
// goes first (the buffer is flushed), what is written after comes after.
TEST_F(Sendfile, DataWrittenBeforeAndAfterKeepsItsPlace) {
  for (bool tls : {false, true}) {
    TempFile file(data());
    auto body = [&]() -> Coro<void> {
      std::string prefix, suffix;
      for (int i = 0; i < 1024; ++i) prefix += "PREFIX__";  // 8 KiB: over the high-water mark
      for (int i = 0; i < 1024; ++i) suffix += "--SUFFIX";
      Connection c = co_await connect_pair(tls);
      c.transport->write(prefix);
      const std::int64_t sent = co_await aio::get_running_loop().sendfile(*c.transport, file.fd());
      c.transport->write(suffix);
      co_await close_and_wait(c);
      EXPECT_EQ(sent, size);
      EXPECT_TRUE(c.server->data == prefix + data() + suffix);
      EXPECT_EQ(tell(file.fd()), size);
    };
    aio::run(body());
  }
}

// test_sendfile_partial, test_sendfile_ssl_partial.
TEST_F(Sendfile, AnOffsetAndACountSendAPart) {
  for (bool tls : {false, true}) {
    TempFile file(data());
    auto body = [&]() -> Coro<void> {
      Connection c = co_await connect_pair(tls);
      const std::int64_t sent =
          co_await aio::get_running_loop().sendfile(*c.transport, file.fd(), 1000, 100);
      co_await close_and_wait(c);
      EXPECT_EQ(sent, 100);
      EXPECT_TRUE(c.server->data == data().substr(1000, 100));
      EXPECT_EQ(tell(file.fd()), 1100);
    };
    aio::run(body());
  }
}

// test_sendfile_close_peer_after_receiving and its ssl twin.
TEST_F(Sendfile, APeerThatClosesOnceItHasAllIsNoError) {
  for (bool tls : {false, true}) {
    TempFile file(data());
    auto body = [&]() -> Coro<void> {
      Connection c = co_await connect_pair(tls, data().size());
      const std::int64_t sent = co_await aio::get_running_loop().sendfile(*c.transport, file.fd());
      co_await close_and_wait(c);
      EXPECT_EQ(sent, size);
      EXPECT_TRUE(c.server->data == data());
      EXPECT_EQ(tell(file.fd()), size);
    };
    aio::run(body());
  }
}

// test_sendfile_close_peer_in_the_middle_of_receiving (zero-copy) and
// test_sendfile_fallback_close_peer_in_the_middle_of_receiving (the file a pipe another thread
// fills, which sendfile(2) cannot serve): a ConnectionError, the position after what was sent.
TEST_F(Sendfile, APeerThatClosesInTheMiddleIsAConnectionError) {
  for (bool zero_copy : {true, false}) {
    TempFile file(data());
    int p[2] = {-1, -1};
    std::thread filler;
    if (!zero_copy) {
      ASSERT_EQ(::pipe(p), 0);
      filler = std::thread([fd = p[1]] {
        for (std::size_t done = 0; done < data().size();) {
          const ssize_t n = ::write(fd, data().data() + done, data().size() - done);
          if (n <= 0) break;  // the reader went
          done += static_cast<std::size_t>(n);
        }
        ::close(fd);
      });
    }
    const int source = zero_copy ? file.fd() : p[0];
    auto body = [&]() -> Coro<void> {
      Connection c = co_await connect_pair(false, 1024);
      try {
        co_await aio::get_running_loop().sendfile(*c.transport, source);
        ADD_FAILURE() << "sent everything to a peer that closed; zero-copy: " << zero_copy;
      } catch (const std::system_error& e) {
        EXPECT_TRUE(e.code() == std::errc::connection_reset || e.code() == std::errc::broken_pipe)
            << e.what();
      }
      co_await *c.server->lost;
      EXPECT_GE(c.server->data.size(), 1024u);
      EXPECT_LT(c.server->data.size(), data().size());
      if (zero_copy) {
        EXPECT_GE(tell(file.fd()), 1024);
        EXPECT_LT(tell(file.fd()), size);
      }
      co_await aio::testing::wait_until([&] { return c.transport->is_closing(); });
      c.transport->close();
      co_await *c.client->lost;
    };
    aio::run(body());
    if (!zero_copy) {
      ::close(p[0]);
      filler.join();
    }
  }
}

// test_sendfile_prevents_bare_write.
TEST_F(Sendfile, WriteIsRefusedWhileTheFileIsSent) {
  TempFile file(data());
  auto body = [&]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    Connection c = co_await connect_pair(false);
    auto sending = loop.create_task(loop.sendfile(*c.transport, file.fd()));
    co_await aio::testing::yield0();
    EXPECT_FALSE(sending.done());
    try {
      c.transport->write("data");
      ADD_FAILURE() << "a write in the middle of the file";
    } catch (const aio::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "unable to write; sendfile is in progress");
    }
    EXPECT_EQ(co_await sending, size);
    co_await close_and_wait(c);
    EXPECT_TRUE(c.server->data == data());
  };
  aio::run(body());
}

// test_sendfile_force_fallback, test_sendfile_force_unsupported_native: a file sendfile(2)
// cannot serve (a pipe here) is read and written, or, without the fallback, refused.
TEST_F(Sendfile, AFileSendfileCannotServeIsReadAndWrittenOrRefused) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    const std::string piped = data().substr(0, 40 * 1024);  // what a pipe holds at once
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    EXPECT_EQ(::write(p[1], piped.data(), piped.size()), static_cast<ssize_t>(piped.size()));
    ::close(p[1]);
    Connection c = co_await connect_pair(false);
    try {
      co_await loop.sendfile(*c.transport, p[0], 0, {}, false);
      ADD_FAILURE() << "sendfile(2) from a pipe";
    } catch (const aio::SendfileNotAvailableError& e) {
      EXPECT_STREQ(e.what(), "not a regular file");
    }
    const std::int64_t sent = co_await loop.sendfile(*c.transport, p[0]);
    ::close(p[0]);
    c.transport->write("after");  // the transport's own protocol and writes are back
    co_await close_and_wait(c);
    EXPECT_EQ(sent, static_cast<std::int64_t>(piped.size()));
    EXPECT_TRUE(c.server->data == piped + "after");
    EXPECT_EQ(c.client->calls, (std::vector<std::string>{"made", "lost"}));
  };
  aio::run(body());
}

// test_sendfile_for_closing_transp, test_sendfile_no_fallback_for_fallback_transport,
// test_sendfile_not_supported: RuntimeError, nothing sent, the position unmoved.
TEST_F(Sendfile, WhatCannotSendAFileRefuses) {
  TempFile file(data());
  auto body = [&]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto refused = [&](aio::BaseTransport& t, bool fallback, const std::string& why) -> Coro<void> {
      try {
        co_await loop.sendfile(t, file.fd(), 0, {}, fallback);
        ADD_FAILURE() << "sent a file: " << why;
      } catch (const aio::RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
      }
      EXPECT_EQ(tell(file.fd()), 0);
    };
    Connection tls = co_await connect_pair(true);
    co_await refused(*tls.transport, false, "fallback is disabled");
    co_await close_and_wait(tls);

    Connection closing = co_await connect_pair(false);
    closing.transport->close();
    co_await refused(*closing.transport, true, "is closing");
    co_await *closing.server->lost;
    EXPECT_EQ(closing.server->data, "");

    aio::DatagramOptions options;
    options.local_addr = aio::SocketAddress::ip("127.0.0.1", 0);
    aio::DatagramProtocolFactory datagrams = [] {
      return std::make_shared<aio::DatagramProtocol>();
    };
    auto udp = co_await loop.create_datagram_endpoint(datagrams, options);
    co_await refused(*udp.first, true, "not supported");
    udp.first->close();

    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    aio::ProtocolFactory writer = aio::testing::fresh<Recorder>();
    auto pipe = co_await loop.connect_write_pipe(writer, p[1]);
    co_await refused(*pipe.first, true, "not supported");
    pipe.first->close();
    ::close(p[0]);
    co_await aio::testing::yield0();
  };
  aio::run(body());
}

}  // namespace
