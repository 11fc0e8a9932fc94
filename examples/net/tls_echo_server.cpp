// The echo server of asyncio's streams documentation, behind TLS: start_server(..., ssl=ctx).
// Each client sends one message; the server prints it with the TLS version, sends it back and
// closes (with close_notify). A client that resets the connection is let go quietly.
//
//   tls_echo_server [--port N] [--cert FILE --key FILE]
//
// Without --cert/--key it makes a throwaway self-signed certificate for localhost and prints
// where it is: give that file to tls_echo_client as --cafile.
#include <aio/aio.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "serve_until_cancelled.hpp"
#include "tls_cert.hpp"

aio::Coro<void> handle_echo(aio::StreamReader reader, aio::StreamWriter writer) {
  try {
    std::string message = co_await reader.read(100);
    std::string addr = writer.peername().to_string();
    std::any ssl = writer.get_extra_info("ssl_object");
    std::string version = std::any_cast<aio::SSLObject>(ssl).version();

    std::printf("Received '%s' from %s over %s\n", message.c_str(), addr.c_str(), version.c_str());
    std::printf("Send: '%s'\n", message.c_str());
    std::fflush(stdout);
    writer.write(message);
    co_await writer.drain();
  } catch (const std::system_error&) {
    // The client reset the connection: a routine disconnect, not the server's error.
    writer.close();
    co_return;
  }

  std::puts("Close the connection");
  std::fflush(stdout);
  writer.close();
  try {
    co_await writer.wait_closed();
  } catch (const std::exception& e) {
    std::printf("Closed with an error: %s\n", e.what());
  }
}

aio::Coro<void> main_(std::uint16_t port, aio_examples::CertFiles files) {
  auto context = aio::create_default_context(aio::Purpose::client_auth);
  context->load_cert_chain(files.cert, files.key);
  aio::ServerOptions options;
  options.ssl = context;
  aio::Server server = co_await aio::start_server(handle_echo, "127.0.0.1", port, options);

  std::printf("Serving TLS on %s (certificate %s)\n", server.sockets().front().to_string().c_str(),
              files.cert.c_str());
  std::fflush(stdout);
  co_await serve_until_cancelled(server);  // Ctrl+C: stops even with clients connected
}

int main(int argc, char** argv) {
  std::uint16_t port = 8443;
  aio_examples::CertFiles files;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s [--port N] [--cert FILE --key FILE]\n", argv[0]);
      return 2;
    }
    if (std::strcmp(argv[i], "--port") == 0) {
      port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--cert") == 0) {
      files.cert = argv[i + 1];
    } else if (std::strcmp(argv[i], "--key") == 0) {
      files.key = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: %s [--port N] [--cert FILE --key FILE]\n", argv[0]);
      return 2;
    }
  }
  if (files.cert.empty() != files.key.empty()) {
    std::fprintf(stderr, "%s: --cert and --key go together\n", argv[0]);
    return 2;
  }
  try {
    if (files.cert.empty()) files = aio_examples::make_self_signed_cert();
    aio::run(main_(port, files));
  } catch (const aio::KeyboardInterrupt&) {
    return 130;  // Ctrl+C
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tls_echo_server: %s\n", e.what());
    return 1;
  }
}
