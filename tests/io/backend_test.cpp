// The I/O backend under the loop: `automatic` takes io_uring where the kernel allows it and
// falls back to epoll where it does not (forbidden here by a seccomp filter, as container
// runtimes do); an io_uring loop belongs to the thread that first runs it; bytes never cross
// connections, however the backend hands its receive buffers around.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <aio/aio.hpp>

#include "support/loop_peers.hpp"
#include "support/protocols.hpp"

namespace {

using aio::Coro;

// Whether this kernel and sandbox let a process set up an io_uring at all.
[[maybe_unused]] bool kernel_allows_io_uring() {
  char params[120] = {};
  const long fd = ::syscall(__NR_io_uring_setup, 4, params);
  if (fd < 0) return false;
  ::close(static_cast<int>(fd));
  return true;
}

// From here on, io_uring_setup fails with EPERM in this process.
void forbid_io_uring() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    std::_Exit(3);
  }
}

// A round trip through a loopback connection: the loop's I/O works, whichever backend it has.
Coro<void> round_trip() {
  const aio::ClientConnected handler = aio::testing::echo_line;
  aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
  aio::StreamPair pair = co_await aio::open_connection("127.0.0.1", server.port());
  pair.second.write("ping\n");
  const std::string line = co_await pair.first.readline();
  if (line != "ping\n") std::_Exit(4);
  pair.second.close();
  server.close();
  co_await server.wait_closed();
}

std::string expected_automatic() {
  const char* env = std::getenv("AIO_BACKEND");
  if (env && std::string_view(env) == "epoll") return "epoll";
#ifdef AIO_HAVE_URING
  if (kernel_allows_io_uring()) return "io_uring";
#endif
  return "epoll";
}

TEST(Backend, AutomaticTakesIoUringWhereTheKernelAllowsIt) {
  aio::EventLoop loop;
  EXPECT_EQ(loop.backend_name(), expected_automatic());
  aio::EventLoop epoll_loop(aio::RunOptions{.backend = aio::Backend::epoll});
  EXPECT_STREQ(epoll_loop.backend_name(), "epoll");
}

TEST(Backend, DebugModeSaysWhichBackend) {
  testing::internal::CaptureStderr();
  { aio::EventLoop loop(aio::RunOptions{.debug = true}); }
  const std::string said = testing::internal::GetCapturedStderr();
  const std::string expected = "aio: Using backend: " + expected_automatic();
  // Falling back, it says why: "aio: Using backend: epoll: io_uring unavailable (...)".
  EXPECT_TRUE(said == expected + "\n" || said.rfind(expected + ": io_uring unavailable (", 0) == 0)
      << said;
}

TEST(Backend, AutomaticFallsBackToEpollWhereIoUringIsForbidden) {
  EXPECT_EXIT(
      {
        forbid_io_uring();
        aio::EventLoop loop(aio::RunOptions{.debug = true});
        if (std::string_view(loop.backend_name()) != "epoll") std::_Exit(1);
        loop.run_until_complete(round_trip());
        loop.close();
        std::_Exit(0);
      },
      testing::ExitedWithCode(0), "aio: Using backend: epoll");
}

// From here on no descriptor can be opened: the soft limit is the lowest free number.
void exhaust_descriptors() {
  const int lowest_free = ::dup(0);
  ::close(lowest_free);
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = static_cast<rlim_t>(lowest_free);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) std::_Exit(3);
}

std::vector<aio::Backend> available_backends() {
  std::vector<aio::Backend> kinds{aio::Backend::epoll};
#ifdef AIO_HAVE_URING
  if (kernel_allows_io_uring()) kinds.push_back(aio::Backend::io_uring);
#endif
  return kinds;
}

// OS errors have one category everywhere, the system's (API.md), whichever backend raised them,
// and compare equal to the std::errc values.
// Whether `e` is EMFILE in the system's category; says so on stderr.
bool is_emfile_in_the_system_category(const std::system_error& e) {
  std::fprintf(stderr, "%s: %s\n", e.code().category().name(), e.what());
  return e.code() == std::errc::too_many_files_open &&
         e.code().category() == std::system_category();
}

TEST(Backend, AnOsErrorOfEitherBackendIsInTheSystemCategory) {
  for (aio::Backend kind : available_backends()) {
    EXPECT_EXIT(
        {
          // Everything once with descriptors to spare: UBSan's vptr check opens a pipe the
          // first time it meets a type.
          { aio::EventLoop warm(aio::RunOptions{.backend = kind}); }
          try {
            throw std::system_error(EMFILE, std::system_category(), "warm");
          } catch (const std::system_error& e) {
            if (!is_emfile_in_the_system_category(e)) std::_Exit(5);
          }
          exhaust_descriptors();
          try {
            aio::EventLoop loop(aio::RunOptions{.backend = kind});
          } catch (const std::system_error& e) {
            std::_Exit(is_emfile_in_the_system_category(e) ? 0 : 1);
          } catch (const std::exception& e) {
            std::fprintf(stderr, "not a system_error: %s\n", e.what());
            std::_Exit(2);
          }
          std::_Exit(4);
        },
        testing::ExitedWithCode(0), "system: ");
  }
}

TEST(Backend, AnOperationsErrorIsInTheSystemCategoryOnEitherBackend) {
  for (aio::Backend kind : available_backends()) {
    auto body = []() -> Coro<void> {
      aio::Socket probe(aio::AddressFamily::ipv4, aio::SocketType::stream);
      probe.bind(aio::SocketAddress::ip("127.0.0.1", 0));
      const aio::SocketAddress closed = probe.sockname();  // bound, not listening: refused
      aio::Socket sock(aio::AddressFamily::ipv4, aio::SocketType::stream);
      try {
        co_await aio::get_running_loop().sock_connect(sock, closed);
        ADD_FAILURE() << "connected to a port nobody listens on";
      } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::connection_refused) << e.what();
        EXPECT_EQ(e.code().category(), std::system_category());
      }
    };
    aio::run(body(), aio::RunOptions{.backend = kind});
  }
}

TEST(Backend, EpollsOwnRefusalIsInTheSystemCategory) {
  // asyncio's selector loop: add_reader on a regular file is epoll's PermissionError.
  aio::EventLoop loop(aio::RunOptions{.backend = aio::Backend::epoll});
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  try {
    loop.add_reader(::fileno(file), [] {});
    ADD_FAILURE() << "epoll watched a regular file";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::operation_not_permitted) << e.what();
    EXPECT_EQ(e.code().category(), std::system_category());
  }
  std::fclose(file);
  loop.close();
}

#ifndef AIO_HAVE_URING
TEST(Backend, AskingForIoUringInABuildWithoutItIsAClearError) {
  try {
    aio::EventLoop loop(aio::RunOptions{.backend = aio::Backend::io_uring});
    ADD_FAILURE() << "an io_uring loop in a build without liburing";
  } catch (const aio::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("not in this build"), std::string::npos) << e.what();
  }
}
#else
TEST(Backend, AskingForIoUringWhereItIsForbiddenIsAClearError) {
  EXPECT_EXIT(
      {
        forbid_io_uring();
        try {
          aio::EventLoop loop(aio::RunOptions{.backend = aio::Backend::io_uring});
        } catch (const aio::RuntimeError& e) {
          std::fprintf(stderr, "%s\n", e.what());
          std::_Exit(0);
        }
        std::_Exit(1);
      },
      testing::ExitedWithCode(0),
      "the io_uring backend cannot start here: io_uring_queue_init: Operation not permitted");
}

TEST(Backend, AnIoUringLoopRunsInTheThreadThatFirstRunsIt) {
  if (!kernel_allows_io_uring()) GTEST_SKIP() << "io_uring is not allowed here";
  aio::EventLoop loop(aio::RunOptions{.backend = aio::Backend::io_uring});
  // Made here, run in another thread: fine, the ring binds to the first thread that runs it.
  std::thread first([&] { loop.run_until_complete(round_trip()); });
  first.join();
  // I/O from a third thread is refused with a clear error.
  std::string error;
  std::thread second([&] {
    try {
      loop.run_until_complete(round_trip());
    } catch (const aio::RuntimeError& e) {
      error = e.what();
    }
  });
  second.join();
  EXPECT_NE(error.find("an io_uring event loop runs in the thread that first ran it"),
            std::string::npos)
      << error;
  loop.close();
}
#endif

/// `size` bytes that name their connection and position every 16 bytes, so a block that
/// lands on the wrong connection or at the wrong place is seen.
std::string numbered_bytes(int connection, std::size_t size) {
  std::string out;
  out.reserve(size + 16);
  char block[17];
  for (std::size_t at = 0; out.size() < size; at += 16) {
    std::snprintf(block, sizeof block, "<%02d:%011zu>", connection, at);
    out.append(block, 16);
  }
  out.resize(size);
  return out;
}

/// Where `got` first differs from `sent`, for the failure message.
std::string first_difference(const std::string& got, const std::string& sent) {
  std::size_t at = 0;
  while (at < got.size() && at < sent.size() && got[at] == sent[at]) ++at;
  return "byte " + std::to_string(at) + ": got '" + got.substr(at, 16) + "', sent '" +
         sent.substr(at, 16) + "'";
}

Coro<std::string> read_back(aio::StreamReader reader, std::size_t size) {
  co_return co_await reader.readexactly(static_cast<std::int64_t>(size));
}

// Several connections move megabytes at once through an echo server, so reading pauses on
// both sides (the server's write buffers and the clients' StreamReaders fill up), receives that
// arrive meanwhile are held and handed over later, and io_uring's provided buffers run short.
// Every byte must come back to the connection that sent it, in order. (On io_uring, a buffer
// handed over from what a receive held went back to the kernel one poll too early, and another
// connection's bytes overwrote it before it was read: 4 connections x 4 MiB came back mixed.)
TEST(Backend, BytesNeverCrossConnections) {
  constexpr int connections = 4;
  constexpr std::size_t size = 4 << 20;
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Server server =
        co_await loop.create_server(aio::testing::fresh<aio::testing::Echo>(), "127.0.0.1", 0);
    std::vector<std::string> sent;
    std::vector<aio::StreamWriter> writers;
    std::vector<aio::Task<std::string>> reads;
    for (int i = 0; i < connections; ++i) {
      auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
      sent.push_back(numbered_bytes(i, size));
      writer.write(sent.back());  // all of it at once: the transport holds what waits
      writers.push_back(writer);
      reads.push_back(aio::create_task(read_back(reader, size)));
    }
    for (int i = 0; i < connections; ++i) {
      const std::string got = co_await reads[static_cast<std::size_t>(i)];
      const std::string& want = sent[static_cast<std::size_t>(i)];
      EXPECT_EQ(got.size(), want.size());
      EXPECT_TRUE(got == want) << "connection " << i << ", " << first_difference(got, want);
    }
    for (aio::StreamWriter& writer : writers) writer.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(body());
}

}  // namespace
