// The TCP echo client of asyncio's streams documentation ("TCP echo client using streams").
//
//   echo_client [--port N] [MESSAGE]      (default 8888, "Hello World!")
#include <aio/aio.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

aio::Coro<void> tcp_echo_client(std::string message, std::uint16_t port) {
  aio::StreamPair connection = co_await aio::open_connection("127.0.0.1", port);
  aio::StreamReader& reader = connection.first;
  aio::StreamWriter& writer = connection.second;

  std::printf("Send: '%s'\n", message.c_str());
  writer.write(message);
  co_await writer.drain();

  std::string data = co_await reader.read(100);
  std::printf("Received: '%s'\n", data.c_str());

  std::puts("Close the connection");
  writer.close();
  co_await writer.wait_closed();
}

int main(int argc, char** argv) {
  std::uint16_t port = 8888;
  std::string message = "Hello World!";
  int i = 1;
  if (i + 1 < argc && std::strcmp(argv[i], "--port") == 0) {
    port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    i += 2;
  }
  if (i < argc) message = argv[i++];
  if (i != argc) {
    std::fprintf(stderr, "usage: %s [--port N] [MESSAGE]\n", argv[0]);
    return 2;
  }
  aio::run(tcp_echo_client(message, port));
}
