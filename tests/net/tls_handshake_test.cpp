// TLS (aio/ssl.hpp), the handshake: certificates that must be refused; peers that hang up or stay
// silent in it; cancellation; TLS 1.2 and a version mismatch; ALPN; openssl s_client, s_server.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

#include "support/tls.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_fixture.hpp"
#include "support/virtual_loop.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;
using aio::testing::TlsCerts;

using aio::testing::client_context;
using aio::testing::extra;
using aio::testing::server_context;
using aio::testing::tls_client;
using aio::testing::tls_server;
using aio::testing::tls::echo_with_prefix;
using aio::testing::tls::Tls;

struct BadCertCase {
  const char* name;
  std::string (TlsCerts::*cert)() const;
  std::string (TlsCerts::*key)() const;
  const char* server_hostname;
  long verify_code;
  const char* reason;
};

class TlsBadCert : public Tls, public testing::WithParamInterface<BadCertCase> {};

TEST_P(TlsBadCert, IsRefusedWithTheReasonAndNoDataPasses) {
  const BadCertCase& c = GetParam();
  const TlsCerts& certs = TlsCerts::get();
  int handlers = 0;
  aio::ClientConnected handler = [&](StreamReader, StreamWriter w) -> Coro<void> {
    ++handlers;
    w.write("secret");
    co_return;
  };
  auto body = [&]() -> Coro<void> {
    auto server_options = tls_server(server_context((certs.*c.cert)(), (certs.*c.key)()));
    aio::Server server =
        co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(server_options));
    auto options = tls_client();
    options.server_hostname = c.server_hostname;
    bool refused = false;
    try {
      co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
    } catch (const aio::SSLCertVerificationError& e) {
      refused = true;
      EXPECT_EQ(e.verify_code, c.verify_code) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.reason), std::string::npos) << e.what();
      EXPECT_EQ(e.verify_message.find(c.reason), 0u) << e.verify_message;
    }
    EXPECT_TRUE(refused);
    co_await aio::sleep(0.05);  // the server hears the alert
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
  EXPECT_EQ(handlers, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Certificates, TlsBadCert,
    testing::Values(BadCertCase{"expired", &TlsCerts::expired, &TlsCerts::key, "localhost", 10,
                                "certificate has expired"},
                    BadCertCase{"self_signed", &TlsCerts::self_signed, &TlsCerts::self_signed_key,
                                "localhost", 18, "self-signed certificate"},
                    BadCertCase{"wrong_host", &TlsCerts::wrong_host, &TlsCerts::key, "localhost",
                                62, "Hostname mismatch, certificate is not valid for 'localhost'."},
                    BadCertCase{"wrong_ip", &TlsCerts::wrong_host, &TlsCerts::key, "127.0.0.1", 64,
                                "IP address mismatch, certificate is not valid for '127.0.0.1'."},
                    BadCertCase{"untrusted", &TlsCerts::untrusted, &TlsCerts::key, "localhost", 20,
                                "unable to get local issuer certificate"}),
    [](const testing::TestParamInfo<BadCertCase>& info) { return std::string(info.param.name); });

// openssl's own client against an aio server: it verifies our certificate, sends a line, and
// gets the echo before our close_notify ends its session.
TEST_F(Tls, OpensslSClientTalksToAnAioServer) {
  std::string cipher;
  aio::ClientConnected handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
    auto c = extra<aio::CipherInfo>(w, "cipher");
    cipher = std::get<0>(c);
    co_await echo_with_prefix(r, w);
  };
  auto body = [&]() -> Coro<void> {
    auto server_options = tls_server(server_context());
    aio::Server server =
        co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(server_options));
    aio::SubprocessOptions options;
    options.input = aio::Redirect::pipe;
    options.output = aio::Redirect::pipe;
    options.error = aio::Redirect::pipe;
    std::vector<std::string> args{
        "s_client",         "-connect",           "127.0.0.1:" + std::to_string(server.port()),
        "-CAfile",          TlsCerts::get().ca(), "-verify_return_error",
        "-verify_hostname", "localhost",          "-quiet"};
    aio::Process p =
        co_await aio::create_subprocess_exec("openssl", std::move(args), std::move(options));
    std::string input = "hello from s_client\n";
    auto [out, err] = co_await aio::wait_for(p.communicate(std::move(input)), 30);
    EXPECT_EQ(p.returncode(), 0) << err;
    EXPECT_NE(out.find("echo: hello from s_client\n"), std::string::npos) << out << err;
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
  EXPECT_FALSE(cipher.empty());
}

// An aio client against openssl's server (-rev sends each line back reversed), with ALPN.
TEST_F(Tls, AioClientTalksToOpensslSServerAndNegotiatesAlpn) {
  auto body = []() -> Coro<void> {
    aio::SubprocessOptions options;
    options.input = aio::Redirect::devnull;
    options.output = aio::Redirect::pipe;
    options.error = aio::Redirect::to_output;
    std::vector<std::string> args{"s_server",
                                  "-accept",
                                  "0",
                                  "-cert",
                                  TlsCerts::get().cert(),
                                  "-key",
                                  TlsCerts::get().key(),
                                  "-rev",
                                  "-alpn",
                                  "h2,http/1.1"};
    aio::Process s_server =
        co_await aio::create_subprocess_exec("openssl", std::move(args), std::move(options));
    std::uint16_t port = 0;
    for (int i = 0; i < 10 && port == 0; ++i) {
      std::string line = co_await aio::wait_for(s_server.stdout_stream().readline(), 30);
      if (line.rfind("ACCEPT", 0) == 0) {
        port = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
      }
    }
    EXPECT_NE(port, 0);
    auto ctx = client_context();
    ctx->set_alpn_protocols({"http/1.1", "h2"});
    auto connect = tls_client(ctx);
    connect.server_hostname = "localhost";
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port, std::move(connect));
    writer.write("hello s_server\n");
    std::string line = co_await aio::wait_for(reader.readline(), 30);
    EXPECT_EQ(line, "revres_s olleh\n");
    auto obj = extra<aio::SSLObject>(writer, "ssl_object");
    EXPECT_EQ(obj.selected_alpn_protocol(), std::optional<std::string>("h2"));  // server's choice
    EXPECT_EQ(obj.getpeercert()->common_name(), "localhost");
    writer.close();
    co_await writer.wait_closed();
    s_server.kill();
    co_await s_server.wait();
  };
  aio::run(body());
}

TEST_F(Tls, AlpnBetweenAioPeersPicksTheServersFirstChoiceTheClientOffers) {
  std::optional<std::string> server_alpn;
  aio::ClientConnected handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
    server_alpn = extra<aio::SSLObject>(w, "ssl_object").selected_alpn_protocol();
    co_await echo_with_prefix(r, w);
  };
  auto body = [&]() -> Coro<void> {
    auto sctx = server_context();
    sctx->set_alpn_protocols({"h2", "http/1.1"});
    auto server_options = tls_server(sctx);
    aio::Server server =
        co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(server_options));
    auto cctx = client_context();
    cctx->set_alpn_protocols({"http/1.1", "spdy/1"});
    auto options = tls_client(cctx);
    auto [reader, writer] =
        co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
    writer.write("x\n");
    EXPECT_EQ(co_await reader.readline(), "echo: x\n");
    EXPECT_EQ(extra<aio::SSLObject>(writer, "ssl_object").selected_alpn_protocol(),
              std::optional<std::string>("http/1.1"));
    writer.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
  EXPECT_EQ(server_alpn, std::optional<std::string>("http/1.1"));
}

TEST_F(Tls, Tls12WorksWhenBothAllowItAndAVersionMismatchIsAnSSLError) {
  aio::ClientConnected handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
    co_await echo_with_prefix(r, w);
  };
  auto body = [&]() -> Coro<void> {
    auto sctx = server_context();
    auto server_options = tls_server(sctx);
    aio::Server server =
        co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(server_options));
    auto cctx = client_context();
    cctx->set_maximum_version(aio::TLSVersion::tls1_2);
    EXPECT_EQ(cctx->maximum_version(), aio::TLSVersion::tls1_2);
    auto options = tls_client(cctx);
    auto [reader, writer] =
        co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
    writer.write("old\n");
    EXPECT_EQ(co_await reader.readline(), "echo: old\n");
    EXPECT_EQ(extra<aio::SSLObject>(writer, "ssl_object").version(), "TLSv1.2");
    EXPECT_EQ(std::get<1>(extra<aio::CipherInfo>(writer, "cipher")), "TLSv1.2");
    writer.close();
    co_await writer.wait_closed();
    // The server now wants TLS 1.3 only: the handshake fails with OpenSSL's reason.
    sctx->set_minimum_version(aio::TLSVersion::tls1_3);
    bool refused = false;
    try {
      auto again = tls_client(cctx);
      co_await aio::open_connection("127.0.0.1", server.port(), std::move(again));
    } catch (const aio::SSLCertVerificationError& e) {
      ADD_FAILURE() << e.what();
    } catch (const aio::SSLError& e) {
      refused = true;
      EXPECT_EQ(e.reason, "tlsv1 alert protocol version") << e.what();
      EXPECT_NE(std::string(e.what()).find("TLS handshake failed: "), std::string::npos);
    }
    EXPECT_TRUE(refused);
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

// Half a ClientHello, then the client hangs up: the server's handler never runs, nothing
// stays open.
TEST_F(Tls, AClientThatHangsUpInTheHandshakeIsDroppedQuietly) {
  int handlers = 0;
  int errors_reported = 0;
  aio::ClientConnected handler = [&](StreamReader, StreamWriter) -> Coro<void> {
    ++handlers;
    co_return;
  };
  auto body = [&]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    loop.set_exception_handler(
        [&](aio::EventLoop&, const aio::ExceptionContext&) { ++errors_reported; });
    auto server_options = tls_server(server_context());
    aio::Server server =
        co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(server_options));
    aio::Socket raw(aio::AddressFamily::ipv4, aio::SocketType::stream);
    co_await loop.sock_connect(raw, aio::SocketAddress::ip("127.0.0.1", server.port()));
    // A handshake record header announcing 512 bytes, and only a few of them.
    const std::string half("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x01\x02", 14);
    co_await loop.sock_sendall(raw, half);
    co_await aio::sleep(0.02);
    raw.close();
    co_await aio::sleep(0.05);
    server.close();
    co_await aio::wait_for(server.wait_closed(), 5);  // the connection is gone too
  };
  aio::run(body());
  EXPECT_EQ(handlers, 0);
  EXPECT_EQ(errors_reported, 0);
}

// A server that accepts and hangs up at once: the client's open_connection fails clearly.
TEST_F(Tls, AServerThatHangsUpInTheHandshakeFailsOpenConnection) {
  auto body = []() -> Coro<void> {
    aio::ClientConnected hang_up = [](StreamReader, StreamWriter w) -> Coro<void> {
      w.close();
      co_return;
    };
    aio::Server server = co_await aio::start_server(std::move(hang_up), "127.0.0.1", 0);
    bool failed = false;
    try {
      auto options = tls_client();
      co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
    } catch (const std::system_error& e) {
      failed = true;
      // The end of the stream ("TLS handshake failed: the peer closed the connection"), or a
      // reset when the server closed with the ClientHello unread ("recv from ...").
      EXPECT_EQ(e.code(), std::errc::connection_reset) << e.what();
    } catch (const aio::SSLError& e) {
      failed = true;  // a reset may reach OpenSSL first
      ADD_FAILURE() << "SSLError: " << e.what();
    }
    EXPECT_TRUE(failed);
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

// A peer that never speaks: the handshake timeout, on virtual time (60 s by default).
TEST_F(Tls, ASilentServerEndsTheHandshakeInTimeoutError) {
  aio::Socket listener(aio::AddressFamily::ipv4, aio::SocketType::stream);
  listener.bind(aio::SocketAddress::ip("127.0.0.1", 0));
  listener.listen(4);  // the kernel accepts for it; nobody ever answers
  const std::uint16_t port = listener.sockname().port();
  auto body = [&]() -> Coro<void> {
    const double start = aio::testing::now();
    bool timed_out = false;
    try {
      auto options = tls_client();
      co_await aio::open_connection("127.0.0.1", port, std::move(options));
    } catch (const aio::TimeoutError& e) {
      timed_out = true;
      EXPECT_NE(std::string(e.what()).find("handshake"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(timed_out);
    EXPECT_NEAR(aio::testing::now() - start, 60.0, 1.0);
  };
  aio::testing::run_virtual(body);
}

TEST_F(Tls, ASilentClientIsCutOffByTheServersHandshakeTimeout) {
  int handlers = 0;
  aio::ClientConnected handler = [&](StreamReader, StreamWriter) -> Coro<void> {
    ++handlers;
    co_return;
  };
  auto body = [&]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto options = tls_server(server_context());
    options.ssl_handshake_timeout = 5;
    aio::Server server =
        co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(options));
    aio::Socket raw(aio::AddressFamily::ipv4, aio::SocketType::stream);
    co_await loop.sock_connect(raw, aio::SocketAddress::ip("127.0.0.1", server.port()));
    const double start = aio::testing::now();
    std::string got = co_await loop.sock_recv(raw, 100);  // EOF when the server gives up
    EXPECT_EQ(got, "");
    EXPECT_NEAR(aio::testing::now() - start, 5.0, 0.5);
    server.close();
    co_await server.wait_closed();
  };
  aio::testing::run_virtual(body);
  EXPECT_EQ(handlers, 0);
}

TEST_F(Tls, CancellingOpenConnectionInTheHandshakeLeavesNothingBehind) {
  aio::Socket listener(aio::AddressFamily::ipv4, aio::SocketType::stream);
  listener.bind(aio::SocketAddress::ip("127.0.0.1", 0));
  listener.listen(4);
  const std::uint16_t port = listener.sockname().port();
  auto body = [&]() -> Coro<void> {
    auto options = tls_client();
    aio::Task<aio::StreamPair> connecting =
        aio::create_task(aio::open_connection("127.0.0.1", port, options));
    co_await aio::sleep(1);  // connected, ClientHello sent, no answer
    EXPECT_FALSE(connecting.done());
    connecting.cancel();
    bool cancelled = false;
    try {
      co_await std::move(connecting);
    } catch (const aio::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    co_await aio::sleep(0);  // the transport's connection_lost runs
  };
  aio::testing::run_virtual(body);
}

}  // namespace
