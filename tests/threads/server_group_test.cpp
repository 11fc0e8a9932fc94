// ServerGroup: one port served by every loop of a group (SO_REUSEPORT): the kernel spreads the
// connections, shutdown is shared and graceful. In aio_thread_tests: also run under TSan.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

namespace {

using namespace std::chrono_literals;

TEST(ServerGroup, TheKernelSpreadsTheConnectionsOverTheLoops) {
  aio::LoopGroup loops(2);
  std::array<std::atomic<int>, 2> served{};
  auto handler = [&](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Coro<void> {
    const int here = loops.index_here();
    if (here >= 0) ++served[static_cast<std::size_t>(here)];
    std::string line = co_await reader.readline();
    writer.write(line);
    co_await writer.drain();
    writer.close();
  };
  aio::run([&]() -> aio::Coro<void> {
    aio::ServerGroup servers =
        co_await aio::start_server_group(loops.loops(), handler, "127.0.0.1", 0);
    EXPECT_EQ(servers.size(), 2u);
    EXPECT_NE(servers.port(), 0);
    for (int i = 0; i < 64; ++i) {
      auto [reader, writer] = co_await aio::open_connection("127.0.0.1", servers.port());
      writer.write("ping " + std::to_string(i) + "\n");
      std::string echo = co_await reader.readline();
      EXPECT_EQ(echo, "ping " + std::to_string(i) + "\n");
      writer.close();
      co_await writer.wait_closed();
    }
    co_await servers.shutdown();
  }());
  EXPECT_EQ(served[0] + served[1], 64);
  EXPECT_GT(served[0].load(), 0);  // 64 connections all hashed to one socket: odds 2^-63
  EXPECT_GT(served[1].load(), 0);
}

TEST(ServerGroup, ShutdownStopsAcceptingAndLetsConnectionsFinish) {
  aio::LoopGroup loops(2);
  std::atomic<bool> handler_finished{false}, accepted{false};
  auto handler = [&](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Coro<void> {
    accepted = true;
    std::string line = co_await reader.readline();  // the client sends it after shutdown began
    writer.write("done " + line);
    co_await writer.drain();
    writer.close();
    handler_finished = true;
  };
  aio::run([&]() -> aio::Coro<void> {
    aio::ServerGroup servers =
        co_await aio::start_server_group(loops.loops(), handler, "127.0.0.1", 0);
    const std::uint16_t port = servers.port();
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    while (!accepted) co_await aio::sleep(0.001);
    aio::Task<void> shutdown = aio::create_task(servers.shutdown(10.0));
    co_await aio::sleep(0.05);
    EXPECT_FALSE(shutdown.done());  // the connection is still open
    bool refused = false;
    try {
      auto late = co_await aio::open_connection("127.0.0.1", port);
      late.second.close();
    } catch (const std::system_error&) {
      refused = true;  // no loop listens any more
    }
    EXPECT_TRUE(refused);
    writer.write("x\n");
    std::string reply = co_await reader.readline();
    EXPECT_EQ(reply, "done x\n");
    co_await shutdown;
    EXPECT_TRUE(handler_finished);
    writer.close();
  }());
}

TEST(ServerGroup, AConnectionThatOutstaysTheGraceIsAborted) {
  aio::LoopGroup loops(2);
  std::atomic<bool> handler_saw_the_end{false}, accepted{false};
  auto handler = [&](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Coro<void> {
    accepted = true;
    std::string data = co_await reader.read(100);  // the client never sends: ends at abort
    handler_saw_the_end = data.empty();
    writer.close();
  };
  aio::run([&]() -> aio::Coro<void> {
    aio::ServerGroup servers =
        co_await aio::start_server_group(loops.loops(), handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", servers.port());
    while (!accepted) co_await aio::sleep(0.001);
    co_await servers.shutdown(0.1);
    std::string rest = co_await reader.read(100);
    EXPECT_EQ(rest, "");  // the server side was aborted
    writer.close();
  }());
  EXPECT_TRUE(handler_saw_the_end);
}

TEST(ServerGroup, APortTakenWithoutReusePortIsAnErrorAndNothingListens) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::uint16_t port = ntohs(addr.sin_port);
  aio::LoopGroup loops(2);
  auto handler = [](aio::StreamReader, aio::StreamWriter) -> aio::Coro<void> { co_return; };
  aio::run([&]() -> aio::Coro<void> {
    bool failed = false;
    try {
      co_await aio::start_server_group(loops.loops(), handler, "127.0.0.1", port);
    } catch (const std::system_error& e) {
      failed = e.code() == std::errc::address_in_use;
    }
    EXPECT_TRUE(failed);
    const std::vector<aio::EventLoop*> none;
    bool empty_refused = false;
    try {
      co_await aio::start_server_group(none, handler, "127.0.0.1", 0);
    } catch (const std::invalid_argument&) {
      empty_refused = true;
    }
    EXPECT_TRUE(empty_refused);
  }());
  ::close(fd);
}

}  // namespace
