// loop.sock_sendfile (test_asyncio/test_sendfile.py's SockSendfileMixin, test_unix_events.py's
// sock_sendfile cases): a file over a connected socket with sendfile(2), or read and sent when
// the file is not a regular one; the file's position after what was sent.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include <aio/aio.hpp>

#include "support/descriptors.hpp"
#include "support/files.hpp"
#include "support/protocols.hpp"
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

void shrink_buffer(int fd, int option) {
  ::setsockopt(fd, SOL_SOCKET, option, &buf_size, sizeof buf_size);
}

// A client socket connected to `server`, over a connection accepted with a small receive buffer
// (test_sendfile's prepare_socksendfile).
Coro<aio::Socket> connect_to(std::shared_ptr<Recorder> server) {
  aio::EventLoop& loop = aio::get_running_loop();
  server->lost = loop.create_future<void>();
  aio::Socket listener(aio::AddressFamily::ipv4, aio::SocketType::stream);
  listener.bind(aio::SocketAddress::ip("127.0.0.1", 0));
  shrink_buffer(listener.fileno(), SO_RCVBUF);
  listener.listen(1);
  aio::Socket sock(aio::AddressFamily::ipv4, aio::SocketType::stream);
  co_await loop.sock_connect(sock, listener.sockname());
  auto [accepted, peer] = co_await loop.sock_accept(listener);
  auto factory = [server] { return server; };
  co_await loop.connect_accepted_socket(factory, std::move(accepted));
  shrink_buffer(sock.fileno(), SO_SNDBUF);
  co_return sock;
}

class SockSendfile : public testing::Test {
 protected:
  void SetUp() override { before_ = aio::testing::open_descriptors(); }
  void TearDown() override { EXPECT_EQ(aio::testing::open_descriptors(), before_); }

 private:
  int before_ = 0;
};

TEST_F(SockSendfile, SendsTheWholeFile) {  // test_sock_sendfile_success
  TempFile file(data());
  auto body = [&]() -> Coro<void> {
    auto server = std::make_shared<Recorder>();
    aio::Socket sock = co_await connect_to(server);
    // No fallback: sendfile(2) itself sends it.
    const std::int64_t sent =
        co_await aio::get_running_loop().sock_sendfile(sock, file.fd(), 0, std::nullopt, false);
    sock.close();
    co_await *server->lost;
    EXPECT_EQ(sent, size);
    EXPECT_TRUE(server->data == data());
    EXPECT_EQ(tell(file.fd()), size);
  };
  aio::run(body());
}

TEST_F(SockSendfile, SendsTheRangeAnOffsetAndACountGive) {  // ..._with_offset_and_count
  TempFile file(data());
  auto body = [&]() -> Coro<void> {
    auto server = std::make_shared<Recorder>();
    aio::Socket sock = co_await connect_to(server);
    const std::int64_t sent =
        co_await aio::get_running_loop().sock_sendfile(sock, file.fd(), 1000, 2000, false);
    sock.close();
    co_await *server->lost;
    EXPECT_EQ(sent, 2000);
    EXPECT_TRUE(server->data == data().substr(1000, 2000));
    EXPECT_EQ(tell(file.fd()), 3000);
  };
  aio::run(body());
}

TEST_F(SockSendfile, AnEmptyFileSendsNothing) {  // test_sock_sendfile_zero_size
  TempFile file(data());
  TempFile empty("");
  auto body = [&]() -> Coro<void> {
    auto server = std::make_shared<Recorder>();
    aio::Socket sock = co_await connect_to(server);
    const std::int64_t sent = co_await aio::get_running_loop().sock_sendfile(sock, empty.fd());
    sock.close();
    co_await *server->lost;
    EXPECT_EQ(sent, 0);
    EXPECT_EQ(server->data, "");
    EXPECT_EQ(tell(file.fd()), 0);
  };
  aio::run(body());
}

TEST_F(SockSendfile, MixesWithRegularSends) {  // test_sock_sendfile_mix_with_regular_send
  TempFile file(data());
  auto body = [&]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    std::string buf;
    for (int i = 0; i < 4 * 1024; ++i) buf += "mix_regular_send";  // 64 KiB
    auto server = std::make_shared<Recorder>();
    aio::Socket sock = co_await connect_to(server);
    co_await loop.sock_sendall(sock, buf);
    const std::int64_t sent = co_await loop.sock_sendfile(sock, file.fd());
    co_await loop.sock_sendall(sock, buf);
    sock.close();
    co_await *server->lost;
    EXPECT_EQ(sent, size);
    EXPECT_TRUE(server->data == buf + data() + buf);
    EXPECT_EQ(tell(file.fd()), size);
  };
  aio::run(body());
}

// test_unix_events.test_sock_sendfile_not_regular_file: a pipe is not for sendfile(2); without
// the fallback that is SendfileNotAvailableError, with it the pipe is read and sent.
TEST_F(SockSendfile, AFileSendfileCannotServeIsReadAndSentOrRefused) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    EXPECT_EQ(::write(p[1], "from a pipe", 11), 11);
    ::close(p[1]);
    auto server = std::make_shared<Recorder>();
    aio::Socket sock = co_await connect_to(server);
    try {
      co_await loop.sock_sendfile(sock, p[0], 0, std::nullopt, false);
      ADD_FAILURE() << "sendfile(2) from a pipe";
    } catch (const aio::SendfileNotAvailableError& e) {
      EXPECT_STREQ(e.what(), "not a regular file");
    }
    const std::int64_t sent = co_await loop.sock_sendfile(sock, p[0]);
    EXPECT_EQ(sent, 11);
    ::close(p[0]);
    sock.close();
    co_await *server->lost;
    EXPECT_EQ(server->data, "from a pipe");
  };
  aio::run(body());
}

// base_events._check_sendfile_params: ValueError, here std::invalid_argument.
TEST_F(SockSendfile, BadArgumentsAreRefused) {
  TempFile file(data());
  auto body = [&]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Socket stream(aio::AddressFamily::ipv4, aio::SocketType::stream);
    EXPECT_THROW(co_await loop.sock_sendfile(stream, file.fd(), -1), std::invalid_argument);
    EXPECT_THROW(co_await loop.sock_sendfile(stream, file.fd(), 0, 0), std::invalid_argument);
    EXPECT_THROW(co_await loop.sock_sendfile(stream, file.fd(), 0, -5), std::invalid_argument);
    aio::Socket datagram(aio::AddressFamily::ipv4, aio::SocketType::datagram);
    EXPECT_THROW(co_await loop.sock_sendfile(datagram, file.fd()), std::invalid_argument);
    EXPECT_EQ(tell(file.fd()), 0);
  };
  aio::run(body());
}

// Cancelled while the peer does not read: the file's position is after what reached the
// socket, and the peer gets exactly that.
TEST_F(SockSendfile, CancellingLeavesThePositionAfterWhatWasSent) {
  TempFile file(data());
  auto body = [&]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto server = std::make_shared<Recorder>();
    server->pause_reading_at_once = true;
    aio::Socket sock = co_await connect_to(server);
    auto sending = loop.create_task(loop.sock_sendfile(sock, file.fd()));
    co_await aio::sleep(1);  // the buffers are full
    EXPECT_FALSE(sending.done());
    sending.cancel();
    try {
      co_await sending;
      ADD_FAILURE() << "sent everything to a peer that does not read";
    } catch (const aio::CancelledError&) {
    }
    const long position = tell(file.fd());
    EXPECT_GT(position, 0);
    EXPECT_LT(position, size);
    sock.close();
    server->transport->resume_reading();
    co_await *server->lost;
    EXPECT_TRUE(server->data == data().substr(0, static_cast<std::size_t>(position)));
  };
  aio::run(body(), aio::testing::virtual_time);
}

}  // namespace
