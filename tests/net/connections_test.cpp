// The connection factories' options and forms that asyncio has: ServerOptions::keep_alive, the
// port as a service name or a string, the factories' protocol type, connect_accepted_socket.
#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/socket.h>

#include <any>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

#include "support/protocols.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;

int socket_option(const StreamWriter& writer, int level, int name) {
  std::any fd = writer.get_extra_info("socket");
  int value = -1;
  socklen_t len = sizeof value;
  ::getsockopt(std::any_cast<int>(fd), level, name, &value, &len);
  return value;
}

// asyncio 3.13's create_server(keep_alive=True): SO_KEEPALIVE on what the server accepts.
TEST(Connections, KeepAliveTurnsOnSoKeepAliveForTheServersConnections) {
  for (bool keep_alive : {false, true}) {
    int seen = -1;
    aio::ClientConnected handler = [&seen](StreamReader, StreamWriter writer) -> Coro<void> {
      seen = socket_option(writer, SOL_SOCKET, SO_KEEPALIVE);
      writer.close();
      co_return;
    };
    auto body = [&]() -> Coro<void> {
      aio::ServerOptions options;
      options.keep_alive = keep_alive;
      aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0, options);
      auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
      EXPECT_EQ(co_await reader.read(), "");  // the handler ran and closed
      writer.close();
      server.close();
      co_await server.wait_closed();
    };
    aio::run(body());
    EXPECT_EQ(seen != 0, keep_alive);
  }
}

// test_base_events.test_create_connection_service_name: the port may be a service name, or
// digits in a string.
TEST(Connections, GetaddrinfoTakesThePortAsDigitsOrAServiceName) {
  if (!::getservbyname("http", "tcp")) GTEST_SKIP() << "no services database here";
  auto body = []() -> Coro<void> {
    auto first_port = [](const std::vector<aio::AddressInfo>& infos) {
      return infos.empty() ? -1 : infos.front().address.port();
    };
    EXPECT_EQ(first_port(co_await aio::getaddrinfo("127.0.0.1", "http")), 80);
    EXPECT_EQ(first_port(co_await aio::getaddrinfo("127.0.0.1", "6379")), 6379);
    EXPECT_EQ(first_port(co_await aio::getaddrinfo("127.0.0.1", "")), 0);
    EXPECT_EQ(first_port(co_await aio::getaddrinfo("localhost", "6379")), 6379);
    EXPECT_EQ(first_port(co_await aio::get_running_loop().getaddrinfo("localhost", "http")), 80);
    try {
      co_await aio::getaddrinfo("127.0.0.1", "no-such-service");
      ADD_FAILURE() << "resolved a service nobody defined";
    } catch (const std::system_error& e) {
      EXPECT_STREQ(e.code().category().name(), "getaddrinfo") << e.what();
    }
  };
  aio::run(body());
}

TEST(Connections, OpenAndCreateConnectionTakeThePortAsAString) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::ProtocolFactory echo = aio::testing::fresh<aio::testing::Echo>();
    aio::Server server = co_await loop.create_server(echo, "127.0.0.1", 0);
    const std::string port = std::to_string(server.port());
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write("ping\n");
    EXPECT_EQ(co_await reader.readline(), "ping\n");
    writer.close();
    auto client = std::make_shared<aio::testing::Recorder>();
    aio::ProtocolFactory factory = aio::testing::share(client);
    auto pair = co_await loop.create_connection(factory, "localhost", port);
    EXPECT_EQ(pair.first->get_extra_info("peername").has_value(), true);
    EXPECT_EQ(client->calls, std::vector<std::string>{"made"});
    pair.first->close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

}  // namespace
