// The connection factories' options and forms that asyncio has: ServerOptions::keep_alive, the
// port as a service name or a string, the factories' protocol type, connect_accepted_socket.
#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/socket.h>

#include <unistd.h>

#include <any>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <aio/aio.hpp>

#include "support/descriptors.hpp"
#include "support/protocols.hpp"
#include "support/tls.hpp"
#include "support/virtual_loop.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;
using aio::testing::Recorder;

int socket_option(const StreamWriter& writer, int level, int name) {
  std::any fd = writer.get_extra_info("socket");
  int value = -1;
  socklen_t len = sizeof value;
  ::getsockopt(std::any_cast<int>(fd), level, name, &value, &len);
  return value;
}

// asyncio 3.13's create_server(keep_alive=True): SO_KEEPALIVE on what the server accepts.
TEST(Connections, KeepAliveTurnsOnSoKeepAliveForTheServersConnections) {
  for (bool keep_alive : {false, true}) {
    int seen = -1;
    aio::ClientConnected handler = [&seen](StreamReader, StreamWriter writer) -> Coro<void> {
      seen = socket_option(writer, SOL_SOCKET, SO_KEEPALIVE);
      writer.close();
      co_return;
    };
    auto body = [&]() -> Coro<void> {
      aio::ServerOptions options;
      options.keep_alive = keep_alive;
      aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0, options);
      auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
      EXPECT_EQ(co_await reader.read(), "");  // the handler ran and closed
      writer.close();
      server.close();
      co_await server.wait_closed();
    };
    aio::run(body());
    EXPECT_EQ(seen != 0, keep_alive);
  }
}

// test_base_events.test_create_connection_service_name: the port may be a service name, or
// digits in a string.
TEST(Connections, GetaddrinfoTakesThePortAsDigitsOrAServiceName) {
  if (!::getservbyname("http", "tcp")) GTEST_SKIP() << "no services database here";
  auto body = []() -> Coro<void> {
    auto first_port = [](const std::vector<aio::AddressInfo>& infos) {
      return infos.empty() ? -1 : infos.front().address.port();
    };
    EXPECT_EQ(first_port(co_await aio::getaddrinfo("127.0.0.1", "http")), 80);
    EXPECT_EQ(first_port(co_await aio::getaddrinfo("127.0.0.1", "6379")), 6379);
    EXPECT_EQ(first_port(co_await aio::getaddrinfo("127.0.0.1", "")), 0);
    EXPECT_EQ(first_port(co_await aio::getaddrinfo("localhost", "6379")), 6379);
    EXPECT_EQ(first_port(co_await aio::get_running_loop().getaddrinfo("localhost", "http")), 80);
    try {
      co_await aio::getaddrinfo("127.0.0.1", "no-such-service");
      ADD_FAILURE() << "resolved a service nobody defined";
    } catch (const std::system_error& e) {
      EXPECT_STREQ(e.code().category().name(), "getaddrinfo") << e.what();
    }
  };
  aio::run(body());
}

TEST(Connections, OpenAndCreateConnectionTakeThePortAsAString) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::ProtocolFactory echo = aio::testing::fresh<aio::testing::Echo>();
    aio::Server server = co_await loop.create_server(echo, "127.0.0.1", 0);
    const std::string port = std::to_string(server.port());
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write("ping\n");
    EXPECT_EQ(co_await reader.readline(), "ping\n");
    writer.close();
    auto client = std::make_shared<aio::testing::Recorder>();
    aio::ProtocolFactory factory = aio::testing::share(client);
    auto pair = co_await loop.create_connection(factory, "localhost", port);
    EXPECT_EQ(pair.first->get_extra_info("peername").has_value(), true);
    EXPECT_EQ(client->calls, std::vector<std::string>{"made"});
    pair.first->close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

struct TypedDatagrams : aio::DatagramProtocol {};

// The factories give the protocol as the factory made it: no cast, the same object.
TEST(Connections, TheFactoriesGiveTheProtocolOfTheFactorysType) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::ProtocolFactory echo = aio::testing::fresh<aio::testing::Echo>();
    aio::Server server = co_await loop.create_server(echo, "127.0.0.1", 0);
    auto client = std::make_shared<Recorder>();
    auto typed = [client] { return client; };
    auto pair = co_await loop.create_connection(typed, "127.0.0.1", server.port());
    static_assert(std::is_same_v<decltype(pair.second), std::shared_ptr<Recorder>>);
    EXPECT_EQ(pair.second, client);
    pair.second->transport->write("typed\n");
    co_await aio::testing::wait_until([&] { return client->data == "typed\n"; });
    pair.first->close();
    // A ProtocolFactory makes a BaseProtocol, as before.
    aio::ProtocolFactory erased = aio::testing::share(client);
    auto base = co_await loop.create_connection(erased, "127.0.0.1", server.port());
    static_assert(std::is_same_v<decltype(base.second), std::shared_ptr<aio::BaseProtocol>>);
    EXPECT_EQ(base.second, client);
    base.first->close();
    server.close();
    co_await server.wait_closed();

    auto datagrams = [] { return std::make_shared<TypedDatagrams>(); };
    aio::DatagramOptions options;
    options.local_addr = aio::SocketAddress::ip("127.0.0.1", 0);
    auto endpoint = co_await loop.create_datagram_endpoint(datagrams, options);
    static_assert(std::is_same_v<decltype(endpoint.second), std::shared_ptr<TypedDatagrams>>);
    endpoint.first->close();

    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    auto reader = std::make_shared<Recorder>();
    auto read_factory = [reader] { return reader; };
    auto read_end = co_await loop.connect_read_pipe(read_factory, p[0]);
    static_assert(std::is_same_v<decltype(read_end.second), std::shared_ptr<Recorder>>);
    EXPECT_EQ(read_end.second, reader);
    read_end.first->close();
    ::close(p[1]);
    co_await aio::testing::yield0();
  };
  aio::run(body());
}

// Answers "roger" to what it receives (test_events' MyProto).
struct Roger : Recorder {
  void data_received(std::string_view d) override {
    Recorder::data_received(d);
    transport->write("roger");
  }
};

Coro<std::string> send_and_read_answer(std::uint16_t port, aio::ConnectOptions options) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port, std::move(options));
  writer.write("test data");
  std::string answer = co_await reader.readexactly(5);
  writer.close();
  co_await writer.wait_closed();
  co_return answer;
}

// test_events.test_connect_accepted_socket and test_ssl_connect_accepted_socket: a socket
// accepted by hand is served by a protocol, over TLS as the server when given a context.
void connect_accepted_socket_round_trip(bool tls) {
  const int before = (aio::testing::TlsCerts::get(), aio::testing::open_descriptors());
  auto body = [tls]() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Socket listener(aio::AddressFamily::ipv4, aio::SocketType::stream);
    listener.bind(aio::SocketAddress::ip("127.0.0.1", 0));
    listener.listen(1);
    aio::ConnectOptions client_options;
    aio::AcceptedSocketOptions server_options;
    if (tls) {
      client_options = aio::testing::tls_client();
      server_options.ssl = aio::testing::server_context();
    }
    aio::Task<std::string> client =
        loop.create_task(send_and_read_answer(listener.sockname().port(), client_options));
    auto [sock, peer] = co_await loop.sock_accept(listener);
    EXPECT_EQ(peer.host(), "127.0.0.1");
    auto proto = std::make_shared<Roger>();
    proto->lost = loop.create_future<void>();
    auto factory = [proto] { return proto; };
    auto pair = co_await loop.connect_accepted_socket(factory, std::move(sock), server_options);
    static_assert(std::is_same_v<decltype(pair.second), std::shared_ptr<Roger>>);
    EXPECT_EQ(proto->calls, std::vector<std::string>{"made"});  // before it returns
    EXPECT_EQ(pair.first->get_extra_info("ssl_object").has_value(), tls);
    EXPECT_EQ(co_await client, "roger");
    co_await *proto->lost;  // the client closed
    EXPECT_EQ(proto->data, "test data");
    EXPECT_EQ(proto->calls.back(), "lost");
  };
  aio::run(body());
  EXPECT_EQ(aio::testing::open_descriptors(), before);
}

TEST(Connections, ConnectAcceptedSocketServesASocketAcceptedElsewhere) {
  connect_accepted_socket_round_trip(false);
}

TEST(Connections, ConnectAcceptedSocketSpeaksTlsAsTheServer) {
  connect_accepted_socket_round_trip(true);
}

// test_events.test_connect_accepted_socket_ssl_timeout_for_plain_socket, and a datagram socket.
TEST(Connections, ConnectAcceptedSocketRefusesWhatAsyncioRefuses) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::ProtocolFactory factory = aio::testing::fresh<Recorder>();
    aio::AcceptedSocketOptions plain_with_timeout;
    plain_with_timeout.ssl_handshake_timeout = 1.0;
    aio::Socket stream(aio::AddressFamily::ipv4, aio::SocketType::stream);
    EXPECT_THROW(
        co_await loop.connect_accepted_socket(factory, std::move(stream), plain_with_timeout),
        std::invalid_argument);
    aio::Socket datagram(aio::AddressFamily::ipv4, aio::SocketType::datagram);
    EXPECT_THROW(co_await loop.connect_accepted_socket(factory, std::move(datagram)),
                 std::invalid_argument);
    aio::AcceptedSocketOptions client_context;
    client_context.ssl = aio::testing::client_context();
    aio::Socket other(aio::AddressFamily::ipv4, aio::SocketType::stream);
    EXPECT_THROW(co_await loop.connect_accepted_socket(factory, std::move(other), client_context),
                 std::invalid_argument);
  };
  aio::run(body());
}

}  // namespace
