// Errors a protocol raises in a transport's callbacks: reported to the loop's exception handler
// under the name of the call that failed (asyncio's messages), and the connection is lost.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "support/protocols.hpp"
#include "support/tls_certs.hpp"

namespace {

using aio::Coro;
using aio::testing::fresh;
using aio::testing::Recorder;
using aio::testing::share;
using aio::testing::TlsCerts;
using aio::testing::wait_until;

TEST(ProtocolErrors, ADataReceivedErrorGoesToTheExceptionHandler) {
  struct Throws : aio::Protocol {
    void data_received(std::string_view) override { throw std::runtime_error("bad data"); }
  };
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    std::vector<std::string> reported;
    loop.set_exception_handler(
        [&](aio::EventLoop&, const aio::ExceptionContext& c) { reported.push_back(c.message); });
    aio::Server server = co_await loop.create_server(fresh<Throws>(), "127.0.0.1", 0);
    auto client = std::make_shared<Recorder>();
    auto pair = co_await loop.create_connection(share(client), "127.0.0.1", server.port());
    pair.first->write("x");
    co_await wait_until([&] { return !reported.empty() && client->calls.back() != "made"; });
    EXPECT_EQ(reported[0], "Fatal error: protocol.data_received() call failed.");
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

// A BufferedProtocol whose get_buffer() or buffer_updated() throws.
struct FailingBuffer : aio::BufferedProtocol {
  bool fail_get_buffer = false;
  std::array<char, 64> buffer{};
  std::span<char> get_buffer(std::size_t) override {
    if (fail_get_buffer) throw std::runtime_error("no buffer");
    return buffer;
  }
  void buffer_updated(std::size_t) override { throw std::runtime_error("bad update"); }
};

aio::ProtocolFactory failing_buffer(bool fail_get_buffer) {
  return [fail_get_buffer] {
    auto p = std::make_shared<FailingBuffer>();
    p->fail_get_buffer = fail_get_buffer;
    return p;
  };
}

const char* expected_message(bool fail_get_buffer) {
  return fail_get_buffer ? "Fatal error: protocol.get_buffer() call failed."
                         : "Fatal error: protocol.buffer_updated() call failed.";
}

// test_selector_events: SelectorSocketTransportBufferedProtocolTests.test_get_buffer_error and
// test_buffer_updated_error, over TCP (on io_uring the data comes in the backend's buffers, on
// epoll it is read into the protocol's), a read pipe and TLS.
TEST(ProtocolErrors, AFailingGetBufferOrBufferUpdatedIsReportedUnderItsOwnName) {
  const TlsCerts& certs = TlsCerts::get();
  for (bool fail_get_buffer : {true, false}) {
    auto body = [&]() -> Coro<void> {
      aio::EventLoop& loop = aio::get_running_loop();
      std::vector<std::string> reported;
      loop.set_exception_handler(
          [&](aio::EventLoop&, const aio::ExceptionContext& c) { reported.push_back(c.message); });

      aio::Server server =
          co_await loop.create_server(failing_buffer(fail_get_buffer), "127.0.0.1", 0);
      auto client = std::make_shared<Recorder>();
      auto tcp = co_await loop.create_connection(share(client), "127.0.0.1", server.port());
      tcp.first->write("x");
      co_await wait_until([&] { return reported.size() == 1; });
      EXPECT_EQ(reported.back(), expected_message(fail_get_buffer)) << "TCP";
      server.close();
      co_await server.wait_closed();

      int p[2];
      EXPECT_EQ(::pipe(p), 0);
      auto pipe = co_await loop.connect_read_pipe(failing_buffer(fail_get_buffer), p[0]);
      EXPECT_EQ(::write(p[1], "x", 1), 1);
      co_await wait_until([&] { return reported.size() == 2; });
      EXPECT_EQ(reported.back(), expected_message(fail_get_buffer)) << "pipe";
      ::close(p[1]);

      aio::ServerOptions tls;
      tls.ssl = std::make_shared<aio::SSLContext>(aio::TLSProtocol::tls_server);
      tls.ssl->load_cert_chain(certs.cert(), certs.key());
      aio::Server tls_server = co_await loop.create_server(failing_buffer(fail_get_buffer),
                                                           "127.0.0.1", 0, std::move(tls));
      aio::ConnectOptions options;
      options.ssl = aio::create_default_context(aio::Purpose::server_auth, certs.ca());
      auto tls_client =
          co_await aio::open_connection("127.0.0.1", tls_server.port(), std::move(options));
      tls_client.second.write("x");
      co_await wait_until([&] { return reported.size() == 3; });
      EXPECT_EQ(reported.back(), expected_message(fail_get_buffer)) << "TLS";
      tls_client.second.close();
      tls_server.close();
      co_await tls_server.wait_closed();
    };
    aio::run(body());
  }
}

}  // namespace
