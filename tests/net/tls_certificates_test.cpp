// TLS (aio/ssl.hpp), before any connection: an SSLContext's settings and complaints, as Python's,
// and TLS options misused, refused before connecting.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <system_error>

#include <aio/aio.hpp>

#include "support/tls.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_fixture.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;
using aio::testing::TlsCerts;

using aio::testing::server_context;
using aio::testing::tls_client;
using aio::testing::tls::Tls;

TEST(TlsContext, MirrorsPythonsSettingsAndComplaints) {
  auto client = aio::create_default_context();
  EXPECT_TRUE(client->check_hostname());
  EXPECT_EQ(client->verify_mode(), aio::VerifyMode::required);
  EXPECT_EQ(client->minimum_version(), aio::TLSVersion::tls1_2);
  EXPECT_FALSE(client->server_side());
  EXPECT_THROW(client->set_verify_mode(aio::VerifyMode::none), std::invalid_argument);
  client->set_check_hostname(false);
  client->set_verify_mode(aio::VerifyMode::none);
  client->set_check_hostname(true);  // turns verification back on
  EXPECT_EQ(client->verify_mode(), aio::VerifyMode::required);
  client->set_minimum_version(aio::TLSVersion::tls1_3);
  EXPECT_EQ(client->minimum_version(), aio::TLSVersion::tls1_3);

  auto server = aio::create_default_context(aio::Purpose::client_auth);
  EXPECT_TRUE(server->server_side());
  EXPECT_FALSE(server->check_hostname());
  EXPECT_EQ(server->verify_mode(), aio::VerifyMode::none);
  try {
    server->load_cert_chain("/nonexistent/cert.pem");
    ADD_FAILURE() << "loaded a missing file";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
  }
  // A certificate with the wrong key: OpenSSL's reason.
  try {
    server->load_cert_chain(TlsCerts::get().cert(), TlsCerts::get().self_signed_key());
    ADD_FAILURE() << "a mismatched key was accepted";
  } catch (const aio::SSLError& e) {
    EXPECT_NE(std::string(e.what()).find("key values mismatch"), std::string::npos) << e.what();
    EXPECT_EQ(e.reason, "key values mismatch");
  }
  EXPECT_THROW(server->set_alpn_protocols({""}), std::invalid_argument);
  EXPECT_THROW(server->set_ciphers("NO-SUCH-CIPHER"), aio::SSLError);
}

TEST_F(Tls, MisusedOptionsAreRefusedBeforeConnecting) {
  auto body = []() -> Coro<void> {
    aio::ClientConnected nothing = [](StreamReader, StreamWriter) -> Coro<void> { co_return; };
    aio::Server server = co_await aio::start_server(std::move(nothing), "127.0.0.1", 0);
    aio::ConnectOptions plain;
    plain.server_hostname = "localhost";
    bool refused = false;
    try {
      co_await aio::open_connection("127.0.0.1", server.port(), std::move(plain));
    } catch (const std::invalid_argument&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
    // A server context cannot make a client connection; check_hostname needs a name.
    refused = false;
    try {
      auto options = tls_client(server_context());
      co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
    } catch (const std::invalid_argument&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
    refused = false;
    try {
      auto options = tls_client();
      options.server_hostname = "";
      co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
    } catch (const std::invalid_argument& e) {
      refused = std::string(e.what()) == "check_hostname requires server_hostname";
    }
    EXPECT_TRUE(refused);
    // The Unix factories refuse TLS options without ssl the same way.
    refused = false;
    try {
      aio::ConnectOptions unix_plain;
      unix_plain.ssl_handshake_timeout = 1;
      co_await aio::open_unix_connection("/nonexistent/aio.sock", std::move(unix_plain));
    } catch (const std::invalid_argument&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

}  // namespace
