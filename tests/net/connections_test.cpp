// The connection factories' options and forms that asyncio has: ServerOptions::keep_alive, the
// port as a service name or a string, the factories' protocol type, connect_accepted_socket.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <any>
#include <memory>
#include <string>
#include <system_error>

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

}  // namespace
