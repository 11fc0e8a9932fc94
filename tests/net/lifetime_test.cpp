// Handles that outlive their loop: a Server, streams, transports, a Socket or a Process kept
// in a variable (or in a task's frame) past run() may be dropped afterwards. A closed loop has
// nothing left for them to do, and a destroyed one must not be touched (ASan checks that).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "support/protocols.hpp"
#include "support/tls_certs.hpp"

namespace {

using aio::Coro;
using aio::testing::Echo;
using aio::testing::fresh;
using aio::testing::TlsCerts;

// Runs `make` under aio::run() and drops what it returned once the loop is destroyed, then on a
// loop of its own, dropping it once that loop is closed (and still there).
template <class T>
void drop_after_the_loop(const std::function<Coro<T>()>& make) {
  std::optional<T> kept = aio::run(make());
  kept.reset();
  aio::EventLoop loop;
  kept = loop.run_until_complete(make());
  loop.close();
  kept.reset();
}

// A connection handler done at once: a handler still running when a loop closes without
// cancelling it (loop.close() alone) would keep its connection in a cycle with its task.
aio::ClientConnected quick_handler() {
  return [](aio::StreamReader, aio::StreamWriter) -> Coro<void> { co_return; };
}

aio::ClientConnected idle_handler() {
  return [](aio::StreamReader r, aio::StreamWriter) -> Coro<void> { co_await r.read(); };
}

struct Served {
  aio::Server server;
  aio::StreamPair client;
};

TEST(Lifetime, AServerKeptPastItsLoopIsSafeToDrop) {
  drop_after_the_loop<aio::Server>([]() -> Coro<aio::Server> {
    aio::EventLoop& loop = aio::get_running_loop();
    co_return co_await loop.create_server(fresh<Echo>(), "127.0.0.1", 0);
  });
  // Also one with a connection it accepted, and a client's streams.
  drop_after_the_loop<Served>([]() -> Coro<Served> {
    aio::Server server = co_await aio::start_server(quick_handler(), "127.0.0.1", 0);
    aio::StreamPair client = co_await aio::open_connection("127.0.0.1", server.port());
    client.second.write("hello");
    co_await aio::sleep(0.01);
    co_return Served{server, client};
  });
}

TEST(Lifetime, AServerInATaskFrameKeptPastItsLoopIsSafeToDrop) {
  // A unique_ptr, not an optional: GCC 12 at -O3 thinks the optional's handle may be read
  // uninitialised (-Wmaybe-uninitialized).
  std::unique_ptr<aio::Task<void>> task;
  {
    aio::EventLoop loop;
    auto serve = []() -> Coro<void> {
      aio::Server server = co_await aio::start_server(idle_handler(), "127.0.0.1", 0);
      co_await server.serve_forever();
    };
    auto body = [&]() -> Coro<void> {
      task = std::make_unique<aio::Task<void>>(aio::create_task(serve()));
      co_await aio::sleep(0.01);
    };
    loop.run_until_complete(body());
  }
  EXPECT_FALSE(task->done());  // abandoned, its frame still holding the server
  task.reset();
}

TEST(Lifetime, AUnixServerKeptPastItsLoopIsSafeToDrop) {
  const std::string path = "/tmp/aio-lifetime-" + std::to_string(::getpid()) + ".sock";
  drop_after_the_loop<aio::Server>([&]() -> Coro<aio::Server> {
    co_return co_await aio::start_unix_server(quick_handler(), path);
  });
  ::unlink(path.c_str());
}

using TransportPair =
    std::pair<std::shared_ptr<aio::Transport>, std::shared_ptr<aio::BaseProtocol>>;

TEST(Lifetime, TransportsKeptPastTheirLoopAreSafeToDrop) {
  drop_after_the_loop<std::vector<TransportPair>>([]() -> Coro<std::vector<TransportPair>> {
    aio::EventLoop& loop = aio::get_running_loop();
    std::vector<TransportPair> kept;
    aio::Server server = co_await loop.create_server(fresh<Echo>(), "127.0.0.1", 0);
    kept.push_back(
        co_await loop.create_connection(fresh<aio::Protocol>(), "127.0.0.1", server.port()));
    kept.front().first->write("unanswered");
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    kept.push_back(co_await loop.connect_read_pipe(fresh<aio::Protocol>(), p[0]));
    kept.push_back(co_await loop.connect_write_pipe(fresh<aio::Protocol>(), p[1]));
    co_return kept;
  });
}

using DatagramPair =
    std::pair<std::shared_ptr<aio::DatagramTransport>, std::shared_ptr<aio::DatagramProtocol>>;

TEST(Lifetime, ADatagramTransportKeptPastItsLoopIsSafeToDrop) {
  drop_after_the_loop<DatagramPair>([]() -> Coro<DatagramPair> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::DatagramOptions options;
    options.local_addr = aio::SocketAddress::ip("127.0.0.1", 0);
    aio::DatagramProtocolFactory factory = [] { return std::make_shared<aio::DatagramProtocol>(); };
    co_return co_await loop.create_datagram_endpoint(std::move(factory), options);
  });
}

TEST(Lifetime, TlsStreamsKeptPastTheirLoopAreSafeToDrop) {
  const TlsCerts& certs = TlsCerts::get();
  drop_after_the_loop<Served>([&]() -> Coro<Served> {
    aio::ServerOptions server_options;
    server_options.ssl = std::make_shared<aio::SSLContext>(aio::TLSProtocol::tls_server);
    server_options.ssl->load_cert_chain(certs.cert(), certs.key());
    aio::Server server =
        co_await aio::start_server(quick_handler(), "127.0.0.1", 0, std::move(server_options));
    aio::ConnectOptions options;
    options.ssl = aio::create_default_context(aio::Purpose::server_auth, certs.ca());
    aio::StreamPair client =
        co_await aio::open_connection("127.0.0.1", server.port(), std::move(options));
    client.second.write("hello");
    co_await aio::sleep(0.01);
    co_return Served{server, client};
  });
}

TEST(Lifetime, SocketsAndStandaloneReadersKeptPastTheirLoopAreSafeToDrop) {
  struct Kept {
    std::shared_ptr<aio::Socket> socket;
    aio::StreamReader reader;
  };
  drop_after_the_loop<Kept>([]() -> Coro<Kept> {
    auto sock = std::make_shared<aio::Socket>(aio::AddressFamily::ipv4, aio::SocketType::stream);
    sock->bind(aio::SocketAddress::ip("127.0.0.1", 0));
    sock->listen();
    aio::StreamReader reader;
    reader.feed_data("unread");
    co_return Kept{sock, reader};
  });
}

TEST(Lifetime, AProcessKeptPastItsLoopIsSafeToDrop) {
  drop_after_the_loop<aio::Process>([]() -> Coro<aio::Process> {
    aio::SubprocessOptions options;
    options.input = aio::Redirect::pipe;
    options.output = aio::Redirect::pipe;
    aio::Process p = co_await aio::create_subprocess_exec("cat", {}, options);
    p.stdin_stream().write("hello");
    co_await aio::sleep(0.01);
    co_return p;
  });
}

}  // namespace
