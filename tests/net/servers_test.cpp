// Servers: what close() does to the listening sockets (closed at once, on every backend).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <aio/aio.hpp>

#include "support/protocols.hpp"

namespace {

using aio::Coro;
using aio::testing::Echo;
using aio::testing::fresh;

// A blocking connect to 127.0.0.1:port, made without giving the loop a turn: 0, or the errno.
int connect_now(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

// test_events: test_server_close. A connect right after close() is refused: the listening
// socket is closed at once (on io_uring too, where a pending accept holds it in the kernel).
TEST(Servers, AConnectRightAfterCloseIsRefused) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Server server = co_await loop.create_server(fresh<Echo>(), "127.0.0.1", 0);
    const std::uint16_t port = server.port();
    EXPECT_EQ(connect_now(port), 0);
    co_await aio::sleep(0.01);  // accepted and served
    server.close();
    EXPECT_EQ(connect_now(port), ECONNREFUSED);
    co_await server.wait_closed();
    EXPECT_EQ(connect_now(port), ECONNREFUSED);
  };
  aio::run(body());
}

}  // namespace
