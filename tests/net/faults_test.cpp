// Faults: what networks and peers do to a program, and what it must then see: peers that reset
// mid-write, connects that never complete, names that do not resolve, clients that trickle,
// 100,000 tasks cancelled while blocked in I/O, a loop shut down with work in flight. Each ends
// in the documented exception, and every descriptor the test opened is closed again.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <aio/aio.hpp>

#include "support/descriptors.hpp"

namespace {

using aio::Coro;
using aio::StreamReader;
using aio::StreamWriter;
using namespace std::chrono_literals;

using aio::testing::open_descriptors;

// Checks that a test gives back every descriptor it opened.
class Faults : public testing::Test {
 protected:
  void SetUp() override { before_ = open_descriptors(); }
  void TearDown() override { EXPECT_EQ(open_descriptors(), before_) << "descriptors leaked"; }

 private:
  int before_ = 0;
};

TEST_F(Faults, PeerResetInTheMiddleOfAWriteEndsTheDrainWithConnectionReset) {
  auto handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
    co_await r.readexactly(64 * 1024);  // some of it, then a reset (SO_LINGER 0 sends RST)
    int fd = std::any_cast<int>(w.get_extra_info("socket"));
    struct linger l {
      1, 0
    };
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    w.transport().abort();
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto conn = co_await aio::open_connection("127.0.0.1", server.port());
    const std::string block(1 << 20, 'x');
    bool failed = false;
    try {
      for (int i = 0; i < 64; ++i) {
        conn.second.write(block);
        co_await conn.second.drain();
      }
    } catch (const std::system_error& e) {
      failed = true;
      EXPECT_TRUE(e.code() == std::errc::connection_reset || e.code() == std::errc::broken_pipe)
          << e.what();
    }
    EXPECT_TRUE(failed) << "64 MiB went to a peer that reset";
    conn.second.close();
    try {
      co_await conn.second.wait_closed();  // asyncio's raises the connection's error again
    } catch (const std::system_error&) {
    }
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST_F(Faults, AConnectThatNeverCompletesEndsInTimeoutError) {
  // A listener that never accepts, its queue full: further SYNs are dropped and a connect
  // waits (the kernel would retry for minutes).
  aio::Socket listener(aio::AddressFamily::ipv4, aio::SocketType::stream);
  listener.bind(aio::SocketAddress::ip("127.0.0.1", 0));
  listener.listen(0);
  const std::uint16_t port = listener.sockname().port();
  std::vector<aio::Socket> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.emplace_back(aio::AddressFamily::ipv4, aio::SocketType::stream);
    const aio::SocketAddress to = listener.sockname();
    ::connect(fillers.back().fileno(), static_cast<const sockaddr*>(to.data()),
              static_cast<socklen_t>(to.size()));
  }
  auto body = [&]() -> Coro<void> {
    bool timed_out = false;
    try {
      co_await aio::wait_for(aio::open_connection("127.0.0.1", port), 300ms);
    } catch (const aio::TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
  };
  aio::run(body());
}

TEST_F(Faults, ANameThatDoesNotResolveIsAClearError) {
  auto body = []() -> Coro<void> {
    try {
      co_await aio::open_connection("no-such-host.invalid", 80);
      ADD_FAILURE() << "connected to no-such-host.invalid";
    } catch (const std::system_error& e) {
      EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos) << e.what();
    }
  };
  aio::run(body());
}

// A client that sends a byte at a time and never a whole line is cut off by the server's own
// timeout, while the server goes on serving everyone else.
TEST_F(Faults, ASlowLorisClientIsCutOffByTheServersTimeout) {
  int timeouts = 0;
  auto handler = [&](StreamReader r, StreamWriter w) -> Coro<void> {
    try {
      std::string line = co_await aio::wait_for(r.readline(), 300ms);
      w.write(line);
      co_await w.drain();
    } catch (const aio::TimeoutError&) {
      ++timeouts;
    }
    w.close();
    co_await w.wait_closed();
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto loris = co_await aio::open_connection("127.0.0.1", server.port());
    auto trickle = [](StreamWriter w) -> Coro<int> {
      int sent = 0;
      try {
        for (; sent < 100; ++sent) {
          w.write("G");
          co_await w.drain();
          co_await aio::sleep(0.02);
        }
      } catch (const std::system_error&) {
      }
      co_return sent;
    };
    aio::Task<int> trickling = aio::create_task(trickle(loris.second));
    // Meanwhile an honest client is served at once.
    auto honest = co_await aio::open_connection("127.0.0.1", server.port());
    honest.second.write("hello\n");
    EXPECT_EQ(co_await honest.first.readline(), "hello\n");
    // The loris sees the server close its connection: EOF, or a reset when the server closed
    // with the loris's bytes still unread (TCP answers that with RST).
    bool cut_off = false;
    try {
      cut_off = (co_await aio::wait_for(loris.first.read(), 5s)).empty();
    } catch (const std::system_error& e) {
      cut_off = e.code() == std::errc::connection_reset;
    }
    EXPECT_TRUE(cut_off);
    EXPECT_EQ(timeouts, 1);
    trickling.cancel();
    try {
      co_await std::move(trickling);
    } catch (const aio::CancelledError&) {
    }
    loris.second.close();
    honest.second.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

TEST_F(Faults, CancellingOneHundredThousandTasksBlockedInIo) {
  constexpr int pairs = 1000;
  constexpr int per_socket = 100;
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    std::vector<aio::Socket> ends;
    for (int i = 0; i < pairs; ++i) {
      int fds[2];
      EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
      ends.push_back(aio::Socket::adopt(fds[0]));
      ends.push_back(aio::Socket::adopt(fds[1]));
    }
    std::vector<aio::Task<std::string>> tasks;
    tasks.reserve(pairs * per_socket);
    for (int i = 0; i < pairs; ++i) {
      for (int k = 0; k < per_socket; ++k) {
        tasks.push_back(loop.create_task(loop.sock_recv(ends[2 * i], 16)));
      }
    }
    co_await aio::sleep(0);  // every task is now waiting in sock_recv
    for (auto& t : tasks) t.cancel();
    std::size_t cancelled = 0;
    for (auto& t : tasks) {
      try {
        co_await std::move(t);
      } catch (const aio::CancelledError&) {
        ++cancelled;
      }
    }
    EXPECT_EQ(cancelled, tasks.size());
    // Nothing was consumed, and the sockets still work.
    co_await loop.sock_sendall(ends[1], "after");
    EXPECT_EQ(co_await loop.sock_recv(ends[0], 16), "after");
  };
  aio::run(body());
}

// asyncio.run() with work in flight: the tasks are cancelled, the loop closes, and every
// descriptor (server, connections, a child's pidfd and pipes) is released. A child still
// running is left running, as asyncio leaves it (tests/proc/subprocess_test.cpp).
TEST_F(Faults, ShuttingTheLoopDownWithWorkInFlightReleasesEverything) {
  int child = 0;
  auto handler = [](StreamReader r, StreamWriter w) -> Coro<void> {
    co_await r.readline();  // the clients never send one
    w.close();
  };
  auto body = [&]() -> Coro<void> {
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    std::vector<aio::StreamPair> clients;
    for (int i = 0; i < 20; ++i)
      clients.push_back(co_await aio::open_connection("127.0.0.1", server.port()));
    for (auto& c : clients) {
      aio::create_task([](StreamReader r) -> Coro<void> { co_await r.read(); }(c.first));
    }
    aio::SubprocessOptions options;
    options.output = aio::Redirect::pipe;
    std::vector<std::string> args{"30"};
    aio::Process sleeper = co_await aio::create_subprocess_exec("sleep", args, options);
    child = sleeper.pid();
    aio::create_task([](aio::Process p) -> Coro<void> { co_await p.wait(); }(sleeper));
    aio::create_task(aio::to_thread([] { std::this_thread::sleep_for(20ms); }));
    aio::create_task(aio::sleep(3600));
    co_await aio::sleep(0.05);
    // Returning now leaves all of it in flight.
  };
  aio::run(body());
  ASSERT_GT(child, 0);
  ::kill(child, SIGKILL);
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
}

}  // namespace
