// Test support: what the TLS test files share: the Tls fixture (every test gives back the
// descriptors it opened), a wait_until patient enough for handshakes, a one-line echo handler,
// and a TLS server with one connection to it whose protocols the test chooses.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <aio/aio.hpp>

#include "support/descriptors.hpp"
#include "support/protocols.hpp"
#include "support/tls.hpp"
#include "support/tls_certs.hpp"

// A namespace of their own: this wait_until would be ambiguous beside protocols.hpp's.
namespace aio::testing::tls {

// TLS handshakes take a few more loop trips than plain connects.
inline Coro<void> wait_until(const std::function<bool()>& done) {
  return aio::testing::wait_until(done, 5000);
}

// Every TLS test gives back the descriptors it opened.
class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)TlsCerts::get();  // made before counting
    before_ = open_descriptors();
  }
  void TearDown() override { EXPECT_EQ(open_descriptors(), before_) << "descriptors leaked"; }

 private:
  int before_ = 0;
};

// An echo handler: one line back, then close (with close_notify).
inline Coro<void> echo_with_prefix(StreamReader& r, StreamWriter& w) {
  std::string line = co_await r.readline();
  w.write("echo: " + line);
  co_await w.drain();
  w.close();
  co_await w.wait_closed();
}

// A TLS server whose connections get protocols from `server_factory`, and a TLS connection to it
// whose protocol is `client`. Gives the server (for the caller to close) and the client's
// transport.
struct TlsConnection {
  Server server;
  std::shared_ptr<Transport> transport;
};
template <class Client>
Coro<TlsConnection> connect_tls(ProtocolFactory server_factory, std::shared_ptr<Client> client,
                                ConnectOptions options) {
  EventLoop& loop = get_running_loop();
  auto server_options = tls_server(server_context());
  Server server = co_await loop.create_server(std::move(server_factory), "127.0.0.1", 0,
                                              std::move(server_options));
  ProtocolFactory factory = share(client);
  auto pair = co_await loop.create_connection(std::move(factory), "127.0.0.1", server.port(),
                                              std::move(options));
  EXPECT_EQ(pair.second, client);
  co_return TlsConnection{std::move(server), std::move(pair.first)};
}

}  // namespace aio::testing::tls
