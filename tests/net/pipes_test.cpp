// Pipe transports (loop.connect_read_pipe / connect_write_pipe): data, EOF, a write pipe that
// notices its reader going away, and write_eof() on a write pipe.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <aio/aio.hpp>

#include "support/protocols.hpp"

namespace {

using aio::Coro;
using aio::testing::Recorder;
using aio::testing::share;
using aio::testing::wait_until;

// A protocol on each end of a pipe. Data written on one end arrives on the other; closing the
// writer is EOF for the reader, which then loses its connection. Anything but a pipe, socket or
// terminal is refused, and so is a bad descriptor.
TEST(Pipes, ProtocolsOverBothEndsOfAPipe) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    auto reader = std::make_shared<Recorder>();
    reader->lost = loop.create_future<void>();
    auto writer = std::make_shared<Recorder>();
    auto read_end = co_await loop.connect_read_pipe(share(reader), p[0]);
    auto write_end = co_await loop.connect_write_pipe(share(writer), p[1]);
    EXPECT_EQ(reader->calls, std::vector<std::string>{"made"});  // made before the return
    EXPECT_EQ(writer->calls, std::vector<std::string>{"made"});
    write_end.first->write("through ");
    write_end.first->write("the pipe");
    co_await wait_until([&] { return reader->data == "through the pipe"; });
    write_end.first->close();
    co_await *reader->lost;
    EXPECT_EQ(reader->calls, (std::vector<std::string>{"made", "eof", "lost"}));
    co_await wait_until([&] { return writer->calls.size() == 2; });
    EXPECT_EQ(writer->calls.back(), "lost");
    read_end.first.reset();

    const int file = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    EXPECT_THROW(co_await loop.connect_read_pipe(share(reader), file), std::invalid_argument);
    ::close(file);  // refused: still the caller's
    EXPECT_THROW(co_await loop.connect_read_pipe(share(reader), -1), std::system_error);
  };
  aio::run(body());
}

// A write pipe with nothing to send still hears its reader go: connection_lost(nullptr), over a
// socket pair (test_events: test_write_pipe_disconnect_on_close) and over a real pipe
// (test_unix_events: UnixWritePipeTransportTests.test__read_ready). With data still buffered,
// the data is lost, and so is the connection, with EPIPE (asyncio's BrokenPipeError).
TEST(Pipes, AWritePipeLosesItsConnectionWhenItsReaderCloses) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    {
      int s[2];
      EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
      aio::Socket rsock = aio::Socket::adopt(s[0]);
      auto writer = std::make_shared<Recorder>();
      writer->lost = loop.create_future<void>();
      auto write_end = co_await loop.connect_write_pipe(share(writer), s[1]);
      write_end.first->write("1");
      EXPECT_EQ(co_await loop.sock_recv(rsock, 1024), "1");
      rsock.close();
      co_await aio::wait_for(*writer->lost, 10);
      EXPECT_EQ(writer->calls, (std::vector<std::string>{"made", "lost"}));
      EXPECT_TRUE(write_end.first->is_closing());
    }
    {
      int p[2];
      EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
      auto writer = std::make_shared<Recorder>();
      writer->lost = loop.create_future<void>();
      auto write_end = co_await loop.connect_write_pipe(share(writer), p[1]);
      ::close(p[0]);
      co_await aio::wait_for(*writer->lost, 10);
      EXPECT_EQ(writer->calls, (std::vector<std::string>{"made", "lost"}));
    }
    {
      int p[2];
      EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
      auto writer = std::make_shared<Recorder>();
      writer->lost = loop.create_future<void>();
      auto write_end = co_await loop.connect_write_pipe(share(writer), p[1]);
      write_end.first->write(std::string(1 << 20, 'x'));  // more than the pipe holds
      EXPECT_GT(write_end.first->get_write_buffer_size(), 0u);
      ::close(p[0]);
      co_await aio::wait_for(*writer->lost, 10);
      EXPECT_EQ(writer->calls.back(), "lost(error)");
      EXPECT_EQ(write_end.first->get_write_buffer_size(), 0u);
    }
  };
  aio::run(body());
}

// A write pipe can write EOF: write_eof() closes it once what is buffered has gone
// (test_unix_events: UnixWritePipeTransportTests.test_write_eof, test_write_eof_pending). A
// read pipe cannot.
TEST(Pipes, WriteEofOnAWritePipeClosesItOnceTheBufferDrains) {
  auto body = []() -> Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    {
      int p[2];
      EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
      auto writer = std::make_shared<Recorder>();
      writer->lost = loop.create_future<void>();
      auto reader = std::make_shared<Recorder>();
      auto read_end = co_await loop.connect_read_pipe(share(reader), p[0]);
      auto write_end = co_await loop.connect_write_pipe(share(writer), p[1]);
      EXPECT_TRUE(write_end.first->can_write_eof());
      EXPECT_FALSE(read_end.first->can_write_eof());
      EXPECT_THROW(read_end.first->write_eof(), aio::RuntimeError);
      write_end.first->write_eof();
      EXPECT_TRUE(write_end.first->is_closing());
      co_await aio::wait_for(*writer->lost, 10);
      EXPECT_EQ(writer->calls, (std::vector<std::string>{"made", "lost"}));
      co_await wait_until([&] { return reader->calls.size() == 3; });
      EXPECT_EQ(reader->calls, (std::vector<std::string>{"made", "eof", "lost"}));
    }
    {
      int p[2];
      EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
      auto writer = std::make_shared<Recorder>();
      writer->lost = loop.create_future<void>();
      auto write_end = co_await loop.connect_write_pipe(share(writer), p[1]);
      const std::string data(1 << 20, 'y');  // more than the pipe holds
      write_end.first->write(data);
      write_end.first->write_eof();
      EXPECT_TRUE(write_end.first->is_closing());
      co_await aio::sleep(0.01);
      EXPECT_EQ(writer->calls.back(), "pause");  // not lost while data waits
      auto reader = std::make_shared<Recorder>();
      auto read_end = co_await loop.connect_read_pipe(share(reader), p[0]);
      co_await aio::wait_for(*writer->lost, 10);
      EXPECT_EQ(writer->calls.back(), "lost");
      co_await wait_until([&] { return reader->calls.size() == 3; });
      EXPECT_EQ(reader->data.size(), data.size());
    }
  };
  aio::run(body());
}

}  // namespace
