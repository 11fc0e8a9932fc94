// Servers: what close() does to the listening sockets (closed at once, on every backend) and to
// a Unix server's socket file (asyncio 3.13's cleanup_socket).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
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

std::string socket_path(const char* name) {
  return "/tmp/aio-" + std::to_string(::getpid()) + "-" + name + ".sock";
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

aio::ClientConnected no_handler() {
  return [](aio::StreamReader, aio::StreamWriter) -> Coro<void> { co_return; };
}

// test_unix_events: test_create_unix_server_cleanup_gone, _replaced, _prevented (3.13). close()
// removes the server's socket file, but only while it is still the server's own: a file put in
// its place stays, one already gone is no error, and cleanup_socket = false keeps it.
TEST(Servers, AUnixServerRemovesOnlyItsOwnSocketFile) {
  auto body = []() -> Coro<void> {
    const std::string path = socket_path("cleanup");
    aio::Server own = co_await aio::start_unix_server(no_handler(), path);
    EXPECT_TRUE(exists(path));
    own.close();
    co_await own.wait_closed();
    EXPECT_FALSE(exists(path));

    aio::Server gone = co_await aio::start_unix_server(no_handler(), path);
    ::unlink(path.c_str());
    gone.close();
    co_await gone.wait_closed();
    EXPECT_FALSE(exists(path));

    aio::Server replaced = co_await aio::start_unix_server(no_handler(), path);
    ::unlink(path.c_str());
    std::ofstream(path) << "someone else's";
    replaced.close();
    co_await replaced.wait_closed();
    EXPECT_TRUE(exists(path)) << "the replacement was removed";
    ::unlink(path.c_str());

    aio::ServerOptions keep;
    keep.cleanup_socket = false;
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Server kept = co_await loop.create_unix_server(fresh<Echo>(), path, keep);
    kept.close();
    co_await kept.wait_closed();
    EXPECT_TRUE(exists(path)) << "cleanup_socket = false, and the file went";
    // A stale socket file is replaced by the next server, as before.
    aio::Server next = co_await aio::start_unix_server(no_handler(), path);
    next.close();
    co_await next.wait_closed();
    EXPECT_FALSE(exists(path));
  };
  aio::run(body());
}

}  // namespace
