// TLS (aio/ssl.hpp), start_tls: a plain stream upgraded to TLS on both sides, and an upgrade the
// client refuses. Certificates come from tests/support/tls_certs.hpp.
#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>

#include <aio/aio.hpp>

#include "support/tls.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_fixture.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;
using aio::testing::TlsCerts;

using aio::testing::client_context;
using aio::testing::extra;
using aio::testing::server_context;
using aio::testing::tls::Tls;

// STARTTLS: a plain line, then both sides upgrade the same connection.
TEST_F(Tls, StartTlsUpgradesAPlainStreamOnBothSides) {
  std::string server_version;
  aio::ClientConnected handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
    EXPECT_EQ(co_await r.readline(), "STARTTLS\n");
    w.write("OK\n");
    co_await w.drain();
    auto ctx = server_context();
    co_await w.start_tls(std::move(ctx));
    server_version = extra<aio::SSLObject>(w, "ssl_object").version();
    std::string line = co_await r.readline();
    w.write("secure: " + line);
    co_await w.drain();
    w.close();
    co_await w.wait_closed();
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(std::move(handler), "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    EXPECT_FALSE(writer.get_extra_info("ssl_object").has_value());
    writer.write("STARTTLS\n");
    EXPECT_EQ(co_await reader.readline(), "OK\n");
    std::shared_ptr<aio::SSLContext> ctx = client_context();
    std::optional<std::string> name = "localhost";
    co_await writer.start_tls(std::move(ctx), std::move(name));
    EXPECT_EQ(extra<aio::SSLObject>(writer, "ssl_object").getpeercert()->common_name(),
              "localhost");
    writer.write("hi\n");
    EXPECT_EQ(co_await reader.readline(), "secure: hi\n");
    EXPECT_EQ(co_await reader.read(), "");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
  EXPECT_EQ(server_version, "TLSv1.3");
}

TEST_F(Tls, StartTlsWithAnUntrustedPeerFailsAndClosesTheConnection) {
  aio::ClientConnected handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
    co_await r.readline();
    w.write("OK\n");  // the client starts TLS after this: nothing of it is read as plain text
    co_await w.drain();
    try {
      auto ctx = server_context(TlsCerts::get().untrusted());
      co_await w.start_tls(std::move(ctx));
    } catch (const std::exception&) {
    }
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(std::move(handler), "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    writer.write("go\n");
    EXPECT_EQ(co_await reader.readline(), "OK\n");
    bool refused = false;
    try {
      std::shared_ptr<aio::SSLContext> ctx = client_context();
      std::optional<std::string> name = "localhost";
      co_await writer.start_tls(std::move(ctx), std::move(name));
    } catch (const aio::SSLCertVerificationError& e) {
      refused = true;
      EXPECT_EQ(e.verify_code, 20) << e.what();
    }
    EXPECT_TRUE(refused);
    // The stream ended with that error: a read and wait_closed() say so, nothing hangs.
    bool read_failed = false;
    try {
      co_await aio::wait_for(reader.read(), 5);
    } catch (const aio::SSLCertVerificationError&) {
      read_failed = true;
    }
    EXPECT_TRUE(read_failed);
    bool closed_with_error = false;
    try {
      co_await aio::wait_for(writer.wait_closed(), 5);
    } catch (const aio::SSLCertVerificationError&) {
      closed_with_error = true;
    }
    EXPECT_TRUE(closed_with_error);
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

}  // namespace
