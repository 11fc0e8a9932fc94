// TLS (aio/ssl.hpp), the end of a connection: close with close_notify while the peer still sends
// or never answers, and aio::run() returning with TLS connections still open.
#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <aio/aio.hpp>

#include "support/protocols.hpp"
#include "support/tls.hpp"
#include "support/tls_fixture.hpp"
#include "support/virtual_loop.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;

using aio::testing::Recorder;
using aio::testing::server_context;
using aio::testing::share;
using aio::testing::tls_client;
using aio::testing::tls_server;
using aio::testing::tls::connect_tls;
using aio::testing::tls::Tls;
using aio::testing::tls::TlsConnection;
using aio::testing::tls::wait_until;

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

}  // namespace
