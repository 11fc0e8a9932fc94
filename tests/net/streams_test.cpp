// Streams over TCP and Unix sockets: open_connection, start_server, StreamWriter, Server.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;

// ST-15: the server echoes one line and closes; the client sees the line, then EOF.
Coro<void> echo_line(StreamReader r, StreamWriter w) {
  std::string line = co_await r.readline();
  w.write(line);
  co_await w.drain();
  w.close();
  co_await w.wait_closed();
}

Coro<void> st15(std::string host) {
  aio::Server server = co_await aio::start_server(echo_line, host, 0);
  auto conn = co_await aio::open_connection(host, server.port());
  StreamReader reader = conn.first;
  StreamWriter writer = conn.second;
  writer.write("hello world!\n");
  EXPECT_EQ(co_await reader.readline(), "hello world!\n");
  EXPECT_EQ(co_await reader.read(), "");
  EXPECT_TRUE(reader.at_eof());
  EXPECT_FALSE(writer.is_closing());
  writer.close();
  EXPECT_TRUE(writer.is_closing());
  co_await writer.wait_closed();
  server.close();
  co_await server.wait_closed();
}

TEST(Streams, EchoLineOverIPv4) {
  aio::run(st15("127.0.0.1"));
}  // ST-15
TEST(Streams, EchoLineOverIPv6) {
  aio::run(st15("::1"));
}
TEST(Streams, EchoLineOverLocalhostName) {
  aio::run(st15("localhost"));
}

TEST(Streams, EchoOverUnixSocket) {
  auto body = []() -> Coro<void> {
    const std::string path = "/tmp/aio-test-" + std::to_string(::getpid()) + ".sock";
    aio::Server server = co_await aio::start_unix_server(echo_line, path);
    auto conn = co_await aio::open_unix_connection(path);
    conn.second.write("over unix\n");
    EXPECT_EQ(co_await conn.first.readline(), "over unix\n");
    EXPECT_EQ(co_await conn.first.read(), "");
    conn.second.close();
    server.close();
    co_await server.wait_closed();
    EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the socket file is removed on close";
  };
  aio::run(body());
}

TEST(Streams, WriteAfterCloseThenDrainIsConnectionReset) {  // ST-16
  auto body = []() -> Coro<void> {
    aio::Server server = co_await aio::start_server(echo_line, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    conn.second.close();
    conn.second.write("data");
    try {
      co_await conn.second.drain();
      ADD_FAILURE() << "drain succeeded";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_reset);
    }
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, ConnectToAClosedPortIsRefused) {
  auto body = []() -> Coro<void> {
    aio::Server server = co_await aio::start_server(echo_line, "127.0.0.1", 0);
    const std::uint16_t port = server.port();
    server.close();
    co_await server.wait_closed();
    try {
      co_await aio::open_connection("127.0.0.1", port);
      ADD_FAILURE() << "connected";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_refused);
      EXPECT_NE(std::string(e.what()).find(std::to_string(port)), std::string::npos);
    }
  };
  aio::run(body());
}

TEST(Streams, PeerHalfClosesAndStillReceives) {
  // The client sends, then write_eof(); the server reads to EOF and answers after it.
  auto handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
    std::string all = co_await r.read();
    w.write("got " + std::to_string(all.size()) + " bytes");
    co_await w.drain();
    w.close();
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    EXPECT_TRUE(conn.second.can_write_eof());
    conn.second.write(std::string(100000, 'x'));
    conn.second.write_eof();
    EXPECT_THROW(conn.second.write("more"), aio::RuntimeError);
    EXPECT_EQ(co_await conn.first.read(), "got 100000 bytes");
    conn.second.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, PeerResetIsAnErrorOnTheReader) {
  auto handler = [](StreamReader, StreamWriter w) -> Coro<void> {
    // Reset instead of a clean close: SO_LINGER 0 makes close() send RST.
    int fd = std::any_cast<int>(w.get_extra_info("socket"));
    struct linger l {
      1, 0
    };
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    w.transport().abort();
    co_return;
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    try {
      std::string got = co_await conn.first.read();
      // A reset seen as EOF is allowed when it races the read; then the write fails.
      EXPECT_EQ(got, "");
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_reset);
      EXPECT_NE(std::string(e.what()).find("recv from 127.0.0.1:" + std::to_string(server.port())),
                std::string::npos)
          << e.what();
    }
    conn.second.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, ALineOverTheLimitIsAnErrorAndTheConnectionStaysUsable) {
  auto handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
    bool overlong = false;
    try {
      co_await r.readline();
    } catch (const std::invalid_argument&) {
      overlong = true;
    }
    w.write(overlong ? "too long\n" : "fine\n");
    w.write(co_await r.readline());
    co_await w.drain();
  };
  auto body = [&]() -> Coro<void> {
    aio::ServerOptions options;
    options.limit = 1024;
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0, options);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    conn.second.write(std::string(5000, 'a') + "\nnext\n");
    EXPECT_EQ(co_await conn.first.readline(), "too long\n");
    EXPECT_EQ(co_await conn.first.readline(), "next\n");
    conn.second.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, CancellingAPendingReadlineLeavesTheStreamUsable) {
  auto handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
    std::string line = co_await r.readline();
    w.write(line);
    co_await w.drain();
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    StreamReader reader = conn.first;
    auto t = aio::create_task(reader.readline());
    co_await aio::sleep(0.01);
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    conn.second.write("after cancel\n");
    EXPECT_EQ(co_await reader.readline(), "after cancel\n");
    conn.second.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, TimeoutAroundAReadOfASilentPeer) {
  auto handler = [](StreamReader r, StreamWriter) -> Coro<void> {
    co_await r.read();  // says nothing until the client goes
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    EXPECT_THROW(co_await aio::wait_for(conn.first.readline(), 0.05), aio::TimeoutError);
    conn.second.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, DrainBoundsMemoryAgainstASlowReader) {
  // The server writes 32 MiB as fast as drain() lets it; the client reads slowly. The
  // transport's buffer never holds much more than the high-water mark plus one write.
  constexpr std::size_t chunk = 64 * 1024;
  constexpr int chunks = 512;
  auto handler = [](StreamReader, StreamWriter w) -> Coro<void> {
    const std::string block(chunk, 'b');
    std::size_t peak = 0;
    for (int i = 0; i < chunks; ++i) {
      w.write(block);
      peak = std::max(peak, w.transport().get_write_buffer_size());
      co_await w.drain();
    }
    EXPECT_LE(peak, 64 * 1024 + chunk);
    w.close();
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    std::size_t total = 0;
    int reads = 0;
    for (;;) {
      std::string data = co_await conn.first.read(65536);
      if (data.empty()) break;
      total += data.size();
      if (++reads % 64 == 0) co_await aio::sleep(0.001);  // a slow consumer
    }
    EXPECT_EQ(total, chunk * chunks);
    conn.second.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, CancellingADrainThatWaitsLeavesTheConnectionUsable) {
  auto body = []() -> Coro<void> {
    aio::Event release;
    auto handler = [&release](StreamReader r, StreamWriter w) -> Coro<void> {
      co_await release.wait();  // reads nothing until released: the client's writes pile up
      std::size_t total = 0;
      for (;;) {
        std::string data = co_await r.read(1 << 16);
        if (data.empty()) break;
        total += data.size();
      }
      w.write(std::to_string(total));
      co_await w.drain();
      w.close();
    };
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    StreamWriter writer = conn.second;
    const std::string block(1 << 20, 'd');
    std::size_t sent = 0;
    // Write until drain() has to wait (the kernel buffers and ours are over the mark).
    aio::Task<void> draining = aio::create_task(writer.drain());
    for (int i = 0; i < 256; ++i) {
      writer.write(block);
      sent += block.size();
      draining = aio::create_task(writer.drain());
      co_await aio::sleep(0);
      if (!draining.done()) break;
    }
    EXPECT_FALSE(draining.done());
    draining.cancel();
    EXPECT_THROW(co_await draining, aio::CancelledError);
    release.set();
    co_await writer.drain();  // a new drain() waits for the data to go, then returns
    writer.write_eof();
    EXPECT_EQ(co_await conn.first.read(), std::to_string(sent));
    writer.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, ManyClientsAtOnce) {
  auto handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
    while (true) {
      std::string line = co_await r.readline();
      if (line.empty()) break;
      w.write(line);
      co_await w.drain();
    }
    w.close();
  };
  auto client = [](std::uint16_t port, int id) -> Coro<int> {
    auto conn = co_await aio::open_connection("127.0.0.1", port);
    int ok = 0;
    for (int i = 0; i < 20; ++i) {
      std::string msg = std::to_string(id) + ":" + std::to_string(i) + "\n";
      conn.second.write(msg);
      std::string echoed = co_await conn.first.readline();
      if (echoed == msg) ++ok;
    }
    conn.second.close();
    co_await conn.second.wait_closed();
    co_return ok;
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    std::vector<Coro<int>> clients;
    for (int i = 0; i < 100; ++i) clients.push_back(client(server.port(), i));
    std::vector<int> results = co_await aio::gather(std::move(clients));
    for (int r : results) EXPECT_EQ(r, 20);
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, ServeForeverEndsWhenCancelledAndClosesTheServer) {
  auto body = []() -> Coro<void> {
    aio::Server server = co_await aio::start_server(echo_line, "127.0.0.1", 0);
    EXPECT_TRUE(server.is_serving());
    auto forever = aio::create_task(server.serve_forever());
    co_await aio::sleep(0.01);
    EXPECT_THROW(co_await server.serve_forever(), aio::RuntimeError);
    forever.cancel();
    EXPECT_THROW(co_await forever, aio::CancelledError);
    EXPECT_FALSE(server.is_serving());
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, WaitClosedWaitsForTheConnections) {
  auto body = []() -> Coro<void> {
    aio::Event release;
    auto handler = [&release](StreamReader, StreamWriter w) -> Coro<void> {
      co_await release.wait();
      w.close();
    };
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    co_await aio::sleep(0.01);
    server.close();
    auto waiting = aio::create_task(server.wait_closed());
    co_await aio::sleep(0.01);
    EXPECT_FALSE(waiting.done());
    release.set();
    co_await waiting;
    EXPECT_EQ(co_await conn.first.read(), "");
  };
  aio::run(body());
}

TEST(Streams, HandlerExceptionGoesToTheLoopAndClosesTheConnection) {
  auto body = []() -> Coro<void> {
    std::vector<std::string> reported;
    aio::get_running_loop().set_exception_handler(
        [&](aio::EventLoop&, const aio::ExceptionContext& c) { reported.push_back(c.message); });
    auto handler = [](StreamReader, StreamWriter) -> Coro<void> {
      throw std::runtime_error("handler failed");
      co_return;
    };
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    EXPECT_EQ(co_await conn.first.read(), "");
    EXPECT_EQ(reported, std::vector<std::string>{"Unhandled exception in client_connected_cb"});
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, PeernameAndSockname) {
  auto body = []() -> Coro<void> {
    aio::Server server = co_await aio::start_server(echo_line, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    EXPECT_EQ(conn.second.peername().to_string(), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(conn.second.sockname().host(), "127.0.0.1");
    EXPECT_FALSE(conn.second.get_extra_info("no such key").has_value());
    EXPECT_EQ(server.sockets().size(), 1u);
    conn.second.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, ReusePortLetsTwoServersShareAPort) {
  auto body = []() -> Coro<void> {
    aio::ServerOptions shared;
    shared.reuse_port = true;
    aio::Server a = co_await aio::start_server(echo_line, "127.0.0.1", 0, shared);
    aio::Server b = co_await aio::start_server(echo_line, "127.0.0.1", a.port(), shared);
    EXPECT_EQ(a.port(), b.port());
    for (int i = 0; i < 4; ++i) {  // the kernel spreads them; each is served
      auto conn = co_await aio::open_connection("127.0.0.1", a.port());
      conn.second.write("shared\n");
      EXPECT_EQ(co_await conn.first.readline(), "shared\n");
      conn.second.close();
    }
    a.close();
    b.close();
    co_await a.wait_closed();
    co_await b.wait_closed();
  };
  aio::run(body());
}

TEST(Streams, BindingAPortInUseNamesTheAddress) {
  auto body = []() -> Coro<void> {
    aio::Server a = co_await aio::start_server(echo_line, "127.0.0.1", 0);
    aio::ServerOptions no_reuse;
    no_reuse.reuse_address = false;
    try {
      co_await aio::start_server(echo_line, "127.0.0.1", a.port(), no_reuse);
      ADD_FAILURE() << "bound twice";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::address_in_use);
      EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(a.port())),
                std::string::npos);
    }
    a.close();
    co_await a.wait_closed();
  };
  aio::run(body());
}

// Ten tasks wait in drain() on one paused writer; the one resume releases them all.
TEST(Streams, OneResumeReleasesEveryDrainWaiter) {  // ST-14
  auto body = []() -> Coro<void> {
    aio::Event release;
    auto handler = [&release](StreamReader r, StreamWriter w) -> Coro<void> {
      co_await release.wait();  // reads nothing until released: the client's writes pile up
      for (;;) {
        std::string data = co_await r.read(1 << 16);
        if (data.empty()) break;
      }
      w.close();
    };
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    StreamWriter writer = conn.second;
    const std::string block(1 << 20, 'd');
    // Write until drain() has to wait (the kernel buffers and ours are over the mark).
    std::optional<aio::Task<void>> first;
    for (int i = 0; i < 256; ++i) {
      writer.write(block);
      first = aio::create_task(writer.drain());
      co_await aio::sleep(0);
      if (!first->done()) break;
    }
    EXPECT_FALSE(first->done());
    int drained = 0;
    auto drainer = [&]() -> Coro<void> {
      co_await writer.drain();
      ++drained;
    };
    std::vector<aio::Task<void>> waiters;
    for (int i = 0; i < 10; ++i) waiters.push_back(aio::create_task(drainer()));
    co_await aio::sleep(0);
    EXPECT_EQ(drained, 0);
    release.set();
    co_await aio::gather(waiters);
    co_await *first;
    EXPECT_EQ(drained, 10);
    writer.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

}  // namespace

namespace {

Coro<void> streams_read_a_line(aio::StreamReader reader) {
  co_await reader.readline();
}

TEST(Streams, AReadingTaskNamesTheReadAndThePeerInItsCallGraph) {
  auto body = []() -> Coro<void> {
    // The server reads and never gets a line: its handler waits in readline().
    std::optional<aio::TaskRef> handler;
    auto on_client = [&](aio::StreamReader reader, aio::StreamWriter writer) -> Coro<void> {
      handler = aio::current_task();
      co_await streams_read_a_line(reader);
      writer.close();
    };
    aio::Server server = co_await aio::start_server(on_client, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    while (!handler) co_await aio::sleep(0.001);
    co_await aio::sleep(0.01);
    const std::string peer = conn.second.sockname().to_string();
    // readline() waits in readuntil(), as asyncio's does (its call stack shows both).
    EXPECT_EQ(aio::capture_call_graph(*handler).future.awaiting,
              "StreamReader.readuntil() from " + peer);
    conn.second.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

}  // namespace
