// TLS (aio/ssl.hpp), data once the handshake is done: streams, protocols, a BufferedProtocol
// and Unix sockets; get_extra_info; 10 MiB each way under flow control; pause and resume writing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <any>
#include <array>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <aio/aio.hpp>

#include "support/protocols.hpp"
#include "support/tls.hpp"
#include "support/tls_fixture.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;

using aio::testing::client_context;
using aio::testing::Echo;
using aio::testing::extra;
using aio::testing::Recorder;
using aio::testing::server_context;
using aio::testing::share;
using aio::testing::tls_client;
using aio::testing::tls_server;
using aio::testing::tls::connect_tls;
using aio::testing::tls::echo_with_prefix;
using aio::testing::tls::Tls;
using aio::testing::tls::TlsConnection;
using aio::testing::tls::wait_until;

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

}  // namespace
