// The echo client of asyncio's streams documentation, over TLS: open_connection(..., ssl=ctx).
// The server's certificate is checked against --cafile (or the system's CAs) and the name
// "localhost".
//
//   tls_echo_client [--port N] [--cafile FILE] [MESSAGE]      (default 8443, "Hello World!")
#include <aio/aio.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

aio::Coro<void> tls_echo_client(std::string message, std::uint16_t port,
                                std::optional<std::string> cafile) {
  aio::ConnectOptions options;
  options.ssl = aio::create_default_context(aio::Purpose::server_auth, cafile);
  options.server_hostname = "localhost";
  aio::StreamPair connection = co_await aio::open_connection("127.0.0.1", port, options);
  aio::StreamReader& reader = connection.first;
  aio::StreamWriter& writer = connection.second;

  std::any cert = writer.get_extra_info("peercert");
  std::printf("Connected to %s\n", std::any_cast<aio::PeerCertificate>(cert).common_name().c_str());
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
  std::uint16_t port = 8443;
  std::optional<std::string> cafile;
  std::string message = "Hello World!";
  int i = 1;
  for (; i + 1 < argc && std::strncmp(argv[i], "--", 2) == 0; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) {
      port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--cafile") == 0) {
      cafile = argv[i + 1];
    } else {
      break;
    }
  }
  if (i < argc) message = argv[i++];
  if (i != argc) {
    std::fprintf(stderr, "usage: %s [--port N] [--cafile FILE] [MESSAGE]\n", argv[0]);
    return 2;
  }
  try {
    aio::run(tls_echo_client(message, port, cafile));
  } catch (const aio::SSLError& e) {
    std::fprintf(stderr, "tls_echo_client: %s\n", e.what());
    return 1;
  }
}
