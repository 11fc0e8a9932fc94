// Bytes never cross connections. Several connections move megabytes at once through an echo
// server, so reading pauses on both sides (the server's write buffers and the clients'
// StreamReaders fill up), receives that arrive meanwhile are held and handed over later, and
// the io_uring backend's provided buffers run short. Every byte must come back to the
// connection that sent it, in order. (On io_uring, a buffer handed over from what a receive
// held went back to the kernel one poll too early, and another connection's bytes overwrote
// it before it was read: 4 connections × 4 MiB came back mixed.)
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "support/protocols.hpp"

namespace {

using aio::Coro;
using aio::testing::Echo;
using aio::testing::fresh;

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

TEST(Crosstalk, EachConnectionGetsBackExactlyItsOwnBytes) {
  constexpr int connections = 4;
  constexpr std::size_t size = 4 << 20;
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Server server = co_await loop.create_server(fresh<Echo>(), "127.0.0.1", 0);
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
