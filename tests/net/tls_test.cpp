// TLS (aio/ssl.hpp): aio against aio, and against peers nobody here wrote (openssl s_client,
// openssl s_server); certificates that must be refused; peers that break off or stay silent in
// the handshake; start_tls; 10 MiB each way under flow control; ALPN; get_extra_info; close
// with close_notify; cancellation. Certificates come from tests/support/tls_certs.hpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

#include "support/descriptors.hpp"
#include "support/protocols.hpp"
#include "support/tls.hpp"
#include "support/tls_certs.hpp"
#include "support/virtual_loop.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;
using aio::testing::TlsCerts;

using aio::testing::client_context;
using aio::testing::Echo;
using aio::testing::extra;
using aio::testing::open_descriptors;
using aio::testing::Recorder;
using aio::testing::server_context;
using aio::testing::share;
using aio::testing::tls_client;
using aio::testing::tls_server;

// TLS handshakes take a few more loop trips than plain connects.
aio::Coro<void> wait_until(const std::function<bool()>& done) {
  return aio::testing::wait_until(done, 5000);
}

// Every TLS test gives back the descriptors it opened.
class Tls : public testing::Test {
 protected:
  void SetUp() override {
    (void)TlsCerts::get();  // made before counting
    before_ = open_descriptors();
  }
  void TearDown() override { EXPECT_EQ(open_descriptors(), before_) << "descriptors leaked"; }

 private:
  int before_ = 0;
};

bool has_pair(const aio::PeerCertificate::Pairs& pairs, const std::string& k,
              const std::string& v) {
  return std::find(pairs.begin(), pairs.end(), std::make_pair(k, v)) != pairs.end();
}

// Echoes in two writes from the data it was given: what it was given must stay intact while
// the first write is encrypted and sent.
struct EchoInTwo : aio::Protocol {
  std::shared_ptr<aio::Transport> transport;
  void connection_made(std::shared_ptr<aio::Transport> t) override { transport = std::move(t); }
  void data_received(std::string_view d) override {
    transport->write(d.substr(0, d.size() / 2));
    transport->write(d.substr(d.size() / 2));
  }
  void connection_lost(std::exception_ptr) override { transport.reset(); }
};

// An echo handler: one line back, then close (with close_notify).
Coro<void> echo_with_prefix(StreamReader& r, StreamWriter& w) {
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
  aio::Server server;
  std::shared_ptr<aio::Transport> transport;
};
template <class Client>
Coro<TlsConnection> connect_tls(aio::ProtocolFactory server_factory, std::shared_ptr<Client> client,
                                aio::ConnectOptions options) {
  aio::EventLoop& loop = aio::get_running_loop();
  auto server_options = tls_server(server_context());
  aio::Server server = co_await loop.create_server(std::move(server_factory), "127.0.0.1", 0,
                                                   std::move(server_options));
  aio::ProtocolFactory factory = share(client);
  auto pair = co_await loop.create_connection(std::move(factory), "127.0.0.1", server.port(),
                                              std::move(options));
  EXPECT_EQ(pair.second, client);
  co_return TlsConnection{std::move(server), std::move(pair.first)};
}

TEST_F(Tls, StreamsRoundTripWithTheExtraInfoOfBothSides) {
  std::optional<aio::SSLObject> server_seen;
  aio::ClientConnected handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
    std::any obj = w.get_extra_info("ssl_object");
    if (auto* o = std::any_cast<aio::SSLObject>(&obj)) server_seen = *o;
    co_await echo_with_prefix(r, w);
  };
  auto body = [&]() -> Coro<void> {
    auto server_options = tls_server(server_context());
    aio::Server server =
        co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(server_options));
    auto ctx = client_context();
    auto options = tls_client(ctx);
    auto [reader, writer] =
        co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
    writer.write("hello\n");
    EXPECT_EQ(co_await reader.readline(), "echo: hello\n");
    EXPECT_EQ(co_await reader.read(), "");  // the server closed

    auto obj = extra<aio::SSLObject>(writer, "ssl_object");
    EXPECT_EQ(obj.version(), "TLSv1.3");
    EXPECT_FALSE(obj.server_side());
    EXPECT_EQ(obj.server_hostname(), std::optional<std::string>("127.0.0.1"));
    EXPECT_EQ(obj.selected_alpn_protocol(), std::nullopt);
    auto cipher = extra<aio::CipherInfo>(writer, "cipher");
    EXPECT_EQ(std::get<1>(cipher), "TLSv1.3");
    EXPECT_GE(std::get<2>(cipher), 128);
    EXPECT_EQ(std::get<0>(cipher), std::get<0>(*obj.cipher()));
    auto cert = extra<aio::PeerCertificate>(writer, "peercert");
    EXPECT_EQ(cert.common_name(), "localhost");
    EXPECT_TRUE(has_pair(cert.issuer, "commonName", "aio test CA"));
    EXPECT_TRUE(has_pair(cert.subject_alt_name, "DNS", "localhost"));
    EXPECT_TRUE(has_pair(cert.subject_alt_name, "IP Address", "127.0.0.1"));
    EXPECT_EQ(cert.version, 3);
    EXPECT_FALSE(cert.not_after.empty());
    EXPECT_FALSE(obj.getpeercert_der().empty());
    EXPECT_EQ(extra<std::shared_ptr<aio::SSLContext>>(writer, "sslcontext"), ctx);
    // The rest comes from the TCP transport.
    EXPECT_EQ(writer.peername().port(), server.port());
    EXPECT_GE(extra<int>(writer, "socket"), 0);
    EXPECT_FALSE(writer.can_write_eof());
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
  ASSERT_TRUE(server_seen.has_value());
  EXPECT_TRUE(server_seen->server_side());
  EXPECT_EQ(server_seen->getpeercert(), std::nullopt);  // the client sent no certificate
}

TEST_F(Tls, ProtocolsSeeConnectionMadeOnlyAfterTheHandshakeAndCloseNotifyAsEof) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto server_side = std::make_shared<Recorder>();
    server_side->lost = loop.create_future<void>();
    auto client = std::make_shared<Recorder>();
    client->lost = loop.create_future<void>();
    TlsConnection c = co_await connect_tls(share(server_side), client, tls_client());
    aio::Server& server = c.server;
    EXPECT_EQ(client->calls, std::vector<std::string>{"made"});
    EXPECT_EQ(client->transport, c.transport);
    c.transport->write("ping");
    co_await wait_until([&] { return server_side->data == "ping"; });
    EXPECT_EQ(server_side->calls, std::vector<std::string>{"made"});
    EXPECT_THROW(c.transport->write_eof(), aio::RuntimeError);
    // close() sends close_notify: the server's protocol hears it as eof_received, then the
    // connection ends cleanly on both sides.
    c.transport->close();
    EXPECT_TRUE(c.transport->is_closing());
    c.transport->write("ignored after close");
    co_await *client->lost;
    co_await *server_side->lost;
    EXPECT_EQ(server_side->calls, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_EQ(client->calls, (std::vector<std::string>{"made", "lost"}));
    EXPECT_EQ(server_side->data, "ping");
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

// A BufferedProtocol gets the plaintext decrypted straight into its own (small) buffer.
TEST_F(Tls, ABufferedProtocolReadsIntoItsOwnBuffer) {
  struct Collector : aio::BufferedProtocol {
    std::array<char, 1000> buffer{};
    std::string data;
    std::span<char> get_buffer(std::size_t) override { return buffer; }
    void buffer_updated(std::size_t n) override { data.append(buffer.data(), n); }
  };
  auto body = []() -> Coro<void> {
    auto client = std::make_shared<Collector>();
    TlsConnection c =
        co_await connect_tls([] { return std::make_shared<Echo>(); }, client, tls_client());
    aio::Server& server = c.server;
    const std::string sent(100000, 'b');
    c.transport->write(sent);
    co_await wait_until([&] { return client->data.size() >= sent.size(); });
    EXPECT_TRUE(client->data == sent);
    c.transport->close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST_F(Tls, UnixSocketsSpeakTlsToo) {
  aio::ClientConnected handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
    co_await echo_with_prefix(r, w);
  };
  auto body = [&]() -> Coro<void> {
    const std::string path = "/tmp/aio-tls-test-" + std::to_string(::getpid()) + ".sock";
    auto server_options = tls_server(server_context());
    std::string server_path = path;
    aio::Server server = co_await aio::start_unix_server(std::move(handler), std::move(server_path),
                                                         std::move(server_options));
    auto options = tls_client();
    options.server_hostname = "localhost";  // no host to default to
    std::string client_path = path;
    auto [reader, writer] =
        co_await aio::open_unix_connection(std::move(client_path), std::move(options));
    writer.write("over unix\n");
    EXPECT_EQ(co_await reader.readline(), "echo: over unix\n");
    EXPECT_EQ(extra<aio::SSLObject>(writer, "ssl_object").version(), "TLSv1.3");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST_F(Tls, DataGivenToTheApplicationStaysValidWhileItWrites) {
  auto body = []() -> Coro<void> {
    auto client = std::make_shared<Recorder>();
    TlsConnection c =
        co_await connect_tls([] { return std::make_shared<EchoInTwo>(); }, client, tls_client());
    aio::Server& server = c.server;
    std::string sent;
    for (int i = 0; i < 20000; ++i) sent += std::to_string(i) + ",";
    c.transport->write(sent);
    co_await wait_until([&] { return client->data.size() >= sent.size(); });
    EXPECT_TRUE(client->data == sent);
    c.transport->close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

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

// 10 MiB each way at once through streams, drain() keeping the buffers bounded.
TEST_F(Tls, TenMebibytesEachWayWithDrain) {
  constexpr std::size_t total = 10 << 20;
  constexpr std::size_t chunk = 64 * 1024;
  auto pattern = [](std::size_t i) { return static_cast<char>('a' + (i * 7 + i / 4096) % 26); };
  auto send_all = [&](StreamWriter w) -> Coro<std::size_t> {
    std::string block(chunk, '\0');
    std::size_t most_buffered = 0;
    for (std::size_t sent = 0; sent < total; sent += chunk) {
      for (std::size_t k = 0; k < chunk; ++k) block[k] = pattern(sent + k);
      w.write(block);
      most_buffered = std::max(most_buffered, w.transport().get_write_buffer_size());
      co_await w.drain();
    }
    co_return most_buffered;
  };
  auto receive_all = [&](StreamReader& r) -> Coro<bool> {
    std::size_t got = 0;
    bool intact = true;
    while (got < total) {
      std::string data = co_await r.read(256 * 1024);
      if (data.empty()) break;
      for (std::size_t k = 0; k < data.size(); ++k) intact = intact && data[k] == pattern(got + k);
      got += data.size();
    }
    co_return intact&& got == total;
  };
  bool server_intact = false;
  aio::ClientConnected handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
    aio::Task<std::size_t> sending = aio::create_task(send_all(w));
    server_intact = co_await receive_all(r);
    co_await std::move(sending);
    w.close();
    co_await w.wait_closed();
  };
  auto body = [&]() -> Coro<void> {
    auto server_options = tls_server(server_context());
    aio::Server server =
        co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(server_options));
    auto options = tls_client();
    auto [reader, writer] =
        co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
    aio::Task<std::size_t> sending = aio::create_task(send_all(writer));
    EXPECT_TRUE(co_await receive_all(reader));
    const std::size_t most = co_await std::move(sending);
    // One chunk over the high-water mark at most: drain() waited whenever it was crossed.
    EXPECT_LE(most, 64 * 1024 + chunk + 32 * 1024);
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
  EXPECT_TRUE(server_intact);
}

// The application is paused once OpenSSL's output backs up behind a paused TCP transport, and
// resumed when the peer reads again; the buffer stays bounded meanwhile.
TEST_F(Tls, PauseWritingWhenThePeerStopsReadingAndResumeWhenItReadsAgain) {
  auto body = []() -> Coro<void> {
    auto reader_side = std::make_shared<Recorder>();
    reader_side->pause_reading_at_once = true;
    auto writer_side = std::make_shared<Recorder>();
    TlsConnection c = co_await connect_tls(share(reader_side), writer_side, tls_client());
    aio::Server& server = c.server;
    co_await wait_until([&] { return reader_side->transport != nullptr; });
    EXPECT_FALSE(reader_side->transport->is_reading());
    aio::Transport& t = *c.transport;
    // (low, high), as asyncio's.
    EXPECT_EQ(t.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(16384, 65536)));
    EXPECT_THROW(t.set_write_buffer_limits(10, 20), std::invalid_argument);
    t.set_write_buffer_limits(128 * 1024);
    EXPECT_EQ(t.get_write_buffer_limits(),
              (std::pair<std::size_t, std::size_t>(32 * 1024, 128 * 1024)));
    const std::string block(64 * 1024, 'w');
    std::size_t written = 0;
    for (int i = 0; i < 1024 && writer_side->calls.back() != "pause"; ++i) {
      t.write(block);
      written += block.size();
      co_await aio::sleep(0);  // let the TCP transport flush what the kernel takes
    }
    EXPECT_EQ(writer_side->calls.back(), "pause");
    EXPECT_GT(t.get_write_buffer_size(), std::size_t{128 * 1024});
    EXPECT_LT(written, std::size_t{64} << 20);  // bounded: the kernel's buffers and ours
    reader_side->transport->resume_reading();
    co_await wait_until([&] { return writer_side->calls.back() == "resume"; });
    co_await wait_until([&] { return reader_side->data.size() == written; });
    t.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

// The client closes while the server still sends a lot: the client drops what comes until the
// server's close_notify, and both ends finish cleanly at once (not at the shutdown timeout).
TEST_F(Tls, CloseWhileThePeerIsStillSendingEndsCleanly) {
  struct Talker : Recorder {
    void data_received(std::string_view) override { transport->write(std::string(1 << 20, 't')); }
  };
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto talker = std::make_shared<Talker>();
    talker->lost = loop.create_future<void>();
    auto client = std::make_shared<Recorder>();
    client->lost = loop.create_future<void>();
    TlsConnection c = co_await connect_tls(share(talker), client, tls_client());
    aio::Server& server = c.server;
    c.transport->write("go");
    co_await wait_until([&] { return !client->data.empty(); });
    c.transport->close();
    aio::Future<void> client_lost = *client->lost;
    aio::Future<void> server_lost = *talker->lost;
    co_await aio::wait_for(client_lost, 10);
    co_await aio::wait_for(server_lost, 10);
    EXPECT_EQ(client->calls.back(), "lost");  // no error: both close_notify were exchanged
    EXPECT_EQ(talker->calls, (std::vector<std::string>{"made", "eof", "lost"}));
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

// close() waits for the peer's close_notify; a peer that never reads it (its application paused
// reading) gets ssl_shutdown_timeout, then the connection is cut with TimeoutError.
TEST_F(Tls, CloseGivesUpOnAPeerThatNeverAnswersCloseNotify) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto deaf = std::make_shared<Recorder>();
    deaf->pause_reading_at_once = true;
    std::exception_ptr error;
    struct Keeper : Recorder {
      std::exception_ptr* error = nullptr;
      void connection_lost(std::exception_ptr e) override {
        *error = e;
        Recorder::connection_lost(e);
      }
    };
    auto keeper = std::make_shared<Keeper>();
    keeper->error = &error;
    keeper->lost = loop.create_future<void>();
    auto options = tls_client();
    options.ssl_shutdown_timeout = 7;
    TlsConnection c = co_await connect_tls(share(deaf), keeper, std::move(options));
    aio::Server& server = c.server;
    co_await wait_until([&] { return deaf->transport != nullptr; });
    const double start = aio::testing::now();
    c.transport->close();
    co_await *keeper->lost;
    EXPECT_NEAR(aio::testing::now() - start, 7.0, 0.5);
    bool timed_out = false;
    try {
      if (error) std::rethrow_exception(error);
    } catch (const aio::TimeoutError& e) {
      timed_out = std::string(e.what()) == "TLS shutdown timed out";
    }
    EXPECT_TRUE(timed_out);
    server.close();
    server.abort_clients();
    co_await server.wait_closed();
  };
  aio::testing::run_virtual(body);
}

// aio::run() returning with TLS connections open and one in its handshake: every descriptor
// and every TLS object is released (LeakSanitizer checks the latter in the sanitizer builds).
TEST_F(Tls, ShuttingTheLoopDownWithTlsConnectionsOpenReleasesEverything) {
  aio::ClientConnected handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
    co_await r.readline();  // the clients never send one
    w.close();
  };
  auto body = [&]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto server_options = tls_server(server_context());
    aio::Server server =
        co_await aio::start_server(std::move(handler), "127.0.0.1", 0, std::move(server_options));
    std::vector<aio::StreamPair> clients;
    for (int i = 0; i < 5; ++i) {
      auto options = tls_client();
      clients.push_back(
          co_await aio::open_connection("127.0.0.1", server.port(), std::move(options)));
    }
    for (auto& c : clients) {
      aio::create_task([](StreamReader r) -> Coro<void> { co_await r.read(); }(c.first));
    }
    auto silent = std::make_shared<aio::Socket>(aio::AddressFamily::ipv4, aio::SocketType::stream);
    co_await loop.sock_connect(*silent, aio::SocketAddress::ip("127.0.0.1", server.port()));
    clients.front().second.write("half a line");
    co_await aio::sleep(0.05);
    // Returning now leaves all of it in flight.
  };
  aio::run(body());
}

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
