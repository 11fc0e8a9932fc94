// loop.sock_sendfile and loop.sendfile, as asyncio's unix event loop does them.
//
// The zero-copy path is sendfile(2), readiness-based on both backends (io_uring has no sendfile
// operation): a call sends what the socket buffer takes, and the next waits until the socket is
// writable again, one call per wake-up as asyncio makes them. It serves regular files; for
// anything else, or when the first call fails, SendfileNotAvailableError tells the caller to
// fall back: read the file on the default executor (file reads block) and send what was read,
// through the transport's flow control for loop.sendfile. Over a transport the write buffer is
// flushed first and write() refused meanwhile (asyncio's empty waiter), and reading is paused:
// bytes written behind the transport's back must not be mixed with its own.
//
// The file's position is left after what was sent, as asyncio's file.seek() does; the
// zero-copy path reads at explicit offsets, the fallback from the position (moved to `offset`
// first when it is not 0, as asyncio does).
#include "net/sendfile.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "aio/errors.hpp"
#include "core/loop_internals.hpp"
#include "net/io_await.hpp"
#include "net/socket_util.hpp"
#include "net/stream_transport.hpp"
#include "posix/os_error.hpp"

namespace aio {

namespace detail {

std::int64_t send_file_chunk(int sock, int file, std::int64_t& offset,
                             std::int64_t count) noexcept {
  for (;;) {
    off_t at = static_cast<off_t>(offset);
    const ssize_t r = ::sendfile(sock, file, &at, static_cast<std::size_t>(count));
    if (r >= 0) {
      offset = static_cast<std::int64_t>(at);
      return r;
    }
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  }
}

namespace {

// Bytes asked of one sendfile(2) when no count bounds them (the kernel's own cap).
constexpr std::int64_t whole_file = 0x7ffff000;

void check_arguments(std::int64_t offset, const std::optional<std::int64_t>& count) {
  if (count && *count <= 0) {
    throw std::invalid_argument("count must be a positive integer (got " + std::to_string(*count) +
                                ")");
  }
  if (offset < 0) {
    throw std::invalid_argument("offset must be a non-negative integer (got " +
                                std::to_string(offset) + ")");
  }
}

// The size of the regular file open as `file`; SendfileNotAvailableError for anything else.
std::int64_t regular_file_size(int file) {
  struct stat st {};
  if (::fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
    throw SendfileNotAvailableError("not a regular file");
  }
  return static_cast<std::int64_t>(st.st_size);
}

// What asyncio's file.seek() does at the end: the position after what was sent.
void leave_position(int file, std::int64_t offset, std::int64_t sent) {
  if (sent > 0) ::lseek(file, static_cast<off_t>(offset + sent), SEEK_SET);
}

std::exception_ptr connection_closed() {
  return std::make_exception_ptr(os_error(ECONNRESET, "sendfile: Connection closed by peer"));
}

// The fallback's reads: up to n bytes from the file's position, on the default executor. The
// buffer is shared with the worker, which may still read into it after a cancellation.
Coro<std::size_t> read_chunk(EventLoop& loop, int file, std::shared_ptr<std::vector<char>> buffer,
                             std::size_t n) {
  auto reading = loop.run_in_executor(nullptr, [file, buffer, n]() -> std::int64_t {
    for (;;) {
      const ssize_t r = ::read(file, buffer->data(), n);
      if (r >= 0) return r;
      if (errno != EINTR) return -errno;
    }
  });
  const std::int64_t r = co_await reading;
  if (r < 0) throw os_error(static_cast<int>(-r), "read (sendfile fallback)");
  co_return static_cast<std::size_t>(r);
}

void seek_to(int file, std::int64_t offset) {
  if (offset && ::lseek(file, static_cast<off_t>(offset), SEEK_SET) < 0) {
    throw os_error(errno, "seek (sendfile fallback)");
  }
}

// ---- sock_sendfile ----

Coro<std::int64_t> sock_native(EventLoop& loop, int sock, int file, std::int64_t offset,
                               std::optional<std::int64_t> count) {
  const std::int64_t size = regular_file_size(file);
  if (!count && size == 0) co_return 0;  // an empty file, as asyncio
  ignore_sigpipe();
  const std::int64_t start = offset;
  std::int64_t sent = 0;
  std::exception_ptr failed;
  try {
    for (;;) {
      const std::int64_t want = count ? *count - sent : whole_file;
      if (want <= 0) break;
      const std::int64_t r = send_file_chunk(sock, file, offset, want);
      if (r < 0 && r != -EAGAIN) {
        // Nothing sent yet: a file or socket the call does not serve; the caller falls back.
        if (sent == 0) throw SendfileNotAvailableError("os.sendfile call failed");
        throw os_error(static_cast<int>(-r), "sendfile");
      }
      if (r == 0) break;  // the end of the file
      if (r > 0) sent += r;
      if (count && sent >= *count) break;
      IoAwait writable(loop);
      writable.fd = sock;
      writable.kind = IoKind::writable;
      writable.try_first = false;
      const std::int64_t ready = co_await writable;
      if (ready < 0) throw os_error(static_cast<int>(-ready), "sendfile");
    }
  } catch (...) {
    failed = std::current_exception();
  }
  leave_position(file, start, sent);
  if (failed) std::rethrow_exception(failed);
  co_return sent;
}

// The fallback's copy: reads the file from its position in blocks of at most `chunk` bytes
// and awaits send(data) for each, up to `count` bytes; `sent` counts what went, also when a
// read or a send fails (the caller then leaves the file's position after it).
template <class Send>
Coro<void> copy_in_blocks(EventLoop& loop, int file, std::int64_t chunk,
                          std::optional<std::int64_t> count, std::int64_t& sent, Send& send) {
  const std::int64_t block = count ? std::min(*count, chunk) : chunk;
  auto buffer = std::make_shared<std::vector<char>>(static_cast<std::size_t>(block));
  for (;;) {
    const std::int64_t want = count ? std::min(*count - sent, block) : block;
    if (want <= 0) break;
    const std::size_t got = co_await read_chunk(loop, file, buffer, static_cast<std::size_t>(want));
    if (got == 0) break;
    co_await send(std::string_view(buffer->data(), got));
    sent += static_cast<std::int64_t>(got);
  }
}

Coro<std::int64_t> sock_fallback(EventLoop& loop, Socket& sock, int file, std::int64_t offset,
                                 std::optional<std::int64_t> count) {
  seek_to(file, offset);
  constexpr std::int64_t chunk = 256 * 1024;  // asyncio's SENDFILE_FALLBACK_READBUFFER_SIZE
  auto send = [&](std::string_view data) { return loop.sock_sendall(sock, data); };
  std::int64_t sent = 0;
  std::exception_ptr failed;
  try {
    co_await copy_in_blocks(loop, file, chunk, count, sent, send);
  } catch (...) {
    failed = std::current_exception();
  }
  leave_position(file, offset, sent);
  if (failed) std::rethrow_exception(failed);
  co_return sent;
}

// ---- loop.sendfile's fallback: asyncio's _SendfileFallbackProtocol ----

// Stands in for the transport's protocol while the fallback writes, to hear pause_writing /
// resume_writing; what else comes goes on to the protocol it replaced.
class FallbackProtocol final : public Protocol {
 public:
  FallbackProtocol(EventLoop& loop, Transport& transport, bool paused)
      : loop_(loop), transport_(transport), original_(transport.get_protocol()) {
    if (paused) ready_ = loop_.create_future<void>();
  }

  // Waits while the transport is over its high-water mark; the connection's end is an error.
  Coro<void> drain() {
    if (transport_.is_closing()) std::rethrow_exception(connection_closed());
    if (!ready_) co_return;
    Future<void> ready = *ready_;
    co_await ready;
  }

  // The transport's protocol again, told resume_writing() if it was paused when replaced.
  void restore(bool resume_reading, bool resume_writing) {
    if (ready_) ready_->cancel();
    ready_.reset();
    if (lost_) return;  // connection_lost went on to it already
    transport_.set_protocol(original_);
    if (resume_reading) transport_.resume_reading();
    if (resume_writing && original_) original_->resume_writing();
  }

  void connection_lost(std::exception_ptr error) override {
    lost_ = true;
    if (ready_ && !ready_->done()) ready_->set_exception(error ? error : connection_closed());
    if (original_) original_->connection_lost(error);
  }
  void pause_writing() override {
    if (!ready_) ready_ = loop_.create_future<void>();
  }
  void resume_writing() override {
    if (!ready_) return;
    Future<void> ready = *ready_;
    ready_.reset();
    if (!ready.done()) ready.set_result();
  }
  // Reading is paused; whatever a transport still hands over is the replaced protocol's.
  void data_received(std::string_view data) override {
    if (auto* p = dynamic_cast<Protocol*>(original_.get())) p->data_received(data);
  }
  bool eof_received() override {
    auto* p = dynamic_cast<Protocol*>(original_.get());
    return p && p->eof_received();
  }

 private:
  EventLoop& loop_;
  Transport& transport_;
  std::shared_ptr<BaseProtocol> original_;
  std::optional<Future<void>> ready_;  // set while paused
  bool lost_ = false;
};

Coro<std::int64_t> transport_fallback(EventLoop& loop, Transport& transport, bool paused, int file,
                                      std::int64_t offset, std::optional<std::int64_t> count) {
  const bool was_reading = transport.is_reading();
  transport.pause_reading();
  auto proto = std::make_shared<FallbackProtocol>(loop, transport, paused);
  transport.set_protocol(proto);
  constexpr std::int64_t chunk = 16 * 1024;  // asyncio's
  auto send = [&](std::string_view data) {
    transport.write(data);
    return proto->drain();
  };
  std::int64_t sent = 0;
  std::exception_ptr failed;
  try {
    seek_to(file, offset);
    co_await copy_in_blocks(loop, file, chunk, count, sent, send);
  } catch (...) {
    failed = std::current_exception();
  }
  leave_position(file, offset, sent);
  proto->restore(was_reading, paused);
  if (failed) std::rethrow_exception(failed);
  co_return sent;
}

Coro<std::int64_t> sock_sendfile(EventLoop& loop, Socket& sock, int file, std::int64_t offset,
                                 std::optional<std::int64_t> count, bool fallback) {
  if (!sock) throw std::invalid_argument("sock_sendfile(): the socket is closed");
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(sock.fileno(), SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
    throw std::invalid_argument("only SOCK_STREAM type sockets are supported");
  }
  check_arguments(offset, count);
  std::optional<std::int64_t> sent;
  try {
    sent = co_await sock_native(loop, sock.fileno(), file, offset, count);
  } catch (const SendfileNotAvailableError&) {
    if (!fallback) throw;
  }
  if (sent) co_return *sent;
  co_return co_await sock_fallback(loop, sock, file, offset, count);
}

Coro<std::int64_t> transport_sendfile(EventLoop& loop, BaseTransport& base,
                                      std::shared_ptr<Transport> keep, int file,
                                      std::int64_t offset, std::optional<std::int64_t> count,
                                      bool fallback) {
  check_arguments(offset, count);
  if (base.is_closing()) throw RuntimeError("Transport is closing");
  auto* capable = dynamic_cast<SendfileTransport*>(&base);
  const auto mode = capable ? capable->sendfile_mode() : SendfileTransport::Mode::unsupported;
  if (mode == SendfileTransport::Mode::unsupported) {
    throw RuntimeError("sendfile is not supported for this transport");
  }
  if (mode == SendfileTransport::Mode::try_native) {
    auto* stream = dynamic_cast<StreamTransport*>(keep.get());
    std::optional<std::int64_t> sent;
    try {
      sent = co_await stream->send_file(file, offset, count);
    } catch (const SendfileNotAvailableError&) {
      if (!fallback) throw;
    }
    if (sent) co_return *sent;
  } else if (!fallback) {
    throw RuntimeError(
        "fallback is disabled and native sendfile is not supported for this transport");
  }
  co_return co_await transport_fallback(loop, *keep, capable->protocol_paused(), file, offset,
                                        count);
}

}  // namespace

// ---- the stream transport's zero-copy path ----

Coro<std::int64_t> StreamTransport::send_file(int file, std::int64_t offset,
                                              std::optional<std::int64_t> count) {
  auto keep = shared_from_this();
  if (sending_file_) throw RuntimeError("sendfile is already in progress on this transport");
  const std::int64_t size = regular_file_size(file);
  if (!count && size == 0) co_return 0;
  sending_file_ = true;
  const bool was_reading = is_reading();
  pause_reading();
  const std::int64_t start = offset;
  std::int64_t sent = 0;
  std::exception_ptr failed;
  try {
    if (wbuf_.size() != woff_) co_await file_turn();  // what was written before goes first
    for (;;) {
      if (lost_ || fd_ < 0) std::rethrow_exception(connection_closed());
      const std::int64_t want = count ? *count - sent : whole_file;
      if (want <= 0) break;
      const std::int64_t r = send_file_chunk(fd_, file, offset, want);
      if (r < 0 && r != -EAGAIN) {
        if (sent == 0) throw SendfileNotAvailableError("os.sendfile call failed");
        throw os_error(static_cast<int>(-r), describe("sendfile"));
      }
      if (r == 0) break;
      if (r > 0) sent += r;
      if (count && sent >= *count) break;
      co_await file_turn();
    }
  } catch (...) {
    failed = std::current_exception();
  }
  sending_file_ = false;
  file_waiter_.reset();
  // The writability wait is ours only while nothing is buffered (else it is the flush's).
  if (wbuf_.size() == woff_) LoopInternals::backend(loop_).cancel(write_op_);
  leave_position(file, start, sent);
  if (was_reading && !closing_) resume_reading();
  if (failed) std::rethrow_exception(failed);
  co_return sent;
}

// Completes when the buffer has drained (flush_done), or, with nothing buffered, when the
// socket is writable (on_writable); fails when the connection is lost (call_connection_lost).
Future<void> StreamTransport::file_turn() {
  Future<void> turn = loop_.create_future<void>();
  file_waiter_ = turn;
  if (wbuf_.size() == woff_ && !write_op_.pending) {
    if (LoopInternals::backend(loop_).start(write_op_)) wake_file_waiter(nullptr);
  }
  return turn;
}

void StreamTransport::wake_file_waiter(std::exception_ptr error) {
  if (!file_waiter_) return;
  Future<void> waiter = std::move(*file_waiter_);
  file_waiter_.reset();
  if (waiter.done()) return;  // cancelled
  if (error) {
    waiter.set_exception(error);
  } else {
    waiter.set_result();
  }
}

}  // namespace detail

Coro<std::int64_t> EventLoop::sock_sendfile(Socket& sock, int fd, std::int64_t offset,
                                            std::optional<std::int64_t> count, bool fallback) {
  check_open();
  return detail::sock_sendfile(*this, sock, fd, offset, count, fallback);
}

Coro<std::int64_t> EventLoop::sendfile(BaseTransport& transport, int fd, std::int64_t offset,
                                       std::optional<std::int64_t> count, bool fallback) {
  check_open();
  // Held from the call on, as asyncio's coroutine holds the transport object.
  auto* capable = dynamic_cast<detail::SendfileTransport*>(&transport);
  std::shared_ptr<Transport> keep = capable ? capable->keep_alive() : nullptr;
  return detail::transport_sendfile(*this, transport, std::move(keep), fd, offset, count, fallback);
}

}  // namespace aio
