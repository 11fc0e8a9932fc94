// The TCP echo server of asyncio's streams documentation ("TCP echo server using streams"):
// each client sends one message, the server prints it, sends it back and closes. A client that
// resets the connection is let go quietly (the one addition to the documentation's example).
//
//   echo_server [--port N]      (default 8888; 0 picks a free port)
#include <aio/aio.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "serve_until_cancelled.hpp"

aio::Coro<void> handle_echo(aio::StreamReader reader, aio::StreamWriter writer) {
  try {
    std::string message = co_await reader.read(100);
    std::string addr = writer.peername().to_string();

    std::printf("Received '%s' from %s\n", message.c_str(), addr.c_str());

    std::printf("Send: '%s'\n", message.c_str());
    std::fflush(stdout);
    writer.write(message);
    co_await writer.drain();

    std::puts("Close the connection");
    std::fflush(stdout);
    writer.close();
    co_await writer.wait_closed();
  } catch (const std::system_error&) {
    // The client reset the connection: a routine disconnect, not the server's error (left
    // uncaught, the loop would log it as an unhandled exception in client_connected_cb).
    writer.close();
  }
}

aio::Coro<void> main_(std::uint16_t port) {
  aio::Server server = co_await aio::start_server(handle_echo, "127.0.0.1", port);

  std::printf("Serving on %s\n", server.sockets().front().to_string().c_str());
  std::fflush(stdout);
  co_await serve_until_cancelled(server);  // Ctrl+C: stops even with clients connected
}

int main(int argc, char** argv) {
  std::uint16_t port = 8888;
  if (argc == 3 && std::strcmp(argv[1], "--port") == 0) {
    port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: %s [--port N]\n", argv[0]);
    return 2;
  }
  try {
    aio::run(main_(port));
  } catch (const aio::KeyboardInterrupt&) {
    return 130;  // Ctrl+C
  }
}
