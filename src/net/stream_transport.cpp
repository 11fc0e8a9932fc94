#include "net/stream_transport.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/loop_internals.hpp"
#include "net/buffer_memory.hpp"
#include "net/server_state.hpp"
#include "net/socket_util.hpp"
#include "net/water_marks.hpp"
#include "posix/os_error.hpp"

namespace aio::detail {

namespace {

// One read per readiness event goes here before data_received() sees it (asyncio reads up to
// 256 KiB at a time). Shared by the thread's transports: each read is handed over at once.
std::span<char> scratch_buffer() {
  thread_local std::vector<char> buffer(256 * 1024);
  return buffer;
}

bool is_disconnect(std::int64_t err) {
  return err == ECONNRESET || err == EPIPE || err == ECONNABORTED || err == ESHUTDOWN ||
         err == ETIMEDOUT;
}

}  // namespace

StreamTransport::StreamTransport(EventLoop& loop, int fd, Kind kind,
                                 std::shared_ptr<BaseProtocol> protocol,
                                 std::shared_ptr<ServerState> server)
    : loop_(loop), fd_(fd), kind_(kind), server_(std::move(server)) {
  ignore_sigpipe();
  read_op_.owner = this;
  read_op_.fd = fd;
  // Sockets take data in the backend's buffers where it has them (io_uring), else read
  // after a readiness wait.
  read_op_.kind = kind == Kind::socket && LoopInternals::backend(loop).selects_buffers()
                      ? IoKind::receive
                      : IoKind::readable;
  read_op_.try_first = false;
  write_op_.owner = this;
  write_op_.fd = fd;
  write_op_.kind = IoKind::writable;
  write_op_.try_first = false;
  io_.fd = fd;
  io_.is_socket = kind == Kind::socket;
  if (kind == Kind::socket) cache_addresses();
  // Pipes and sockets say when their reader is gone; a terminal, which also takes input, not.
  struct stat st {};
  watches_reader_ = kind == Kind::write_pipe && ::fstat(fd, &st) == 0 &&
                    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
  set_protocol(std::move(protocol));
}

StreamTransport::~StreamTransport() {
  release_descriptor();
}

void StreamTransport::start(std::function<void()> ready) {
  self_ = shared_from_this();
  LoopInternals::add_resource(loop_, this);
  if (server_) server_->attach(this);
  reading_ = kind_ != Kind::write_pipe;
  // connection_made, then the first read, then the waiter: asyncio's call_soon order.
  loop_.call_soon([self = self_, ready = std::move(ready)] {
    if (self->protocol_ && !self->lost_) {
      try {
        self->protocol_->connection_made(self);
      } catch (...) {
        self->fatal_error(std::current_exception(), "protocol.connection_made() failed");
        if (ready) ready();
        return;
      }
    }
    if ((self->reading_ || self->watches_reader_) && !self->closing_) self->arm_read();
    if (ready) ready();
  });
}

void StreamTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  protocol_ = std::move(protocol);
  stream_protocol_ = dynamic_cast<Protocol*>(protocol_.get());
  buffered_protocol_ =
      stream_protocol_ ? nullptr : dynamic_cast<BufferedProtocol*>(protocol_.get());
}

void StreamTransport::arm_read() {
  if (read_op_.pending) return;
  // Completed at once (data the backend already held): run it as a completion, in turn.
  if (LoopInternals::backend(loop_).start(read_op_)) LoopAccess::schedule(loop_, &read_op_);
}

void StreamTransport::on_readable() {
  // No self-reference needed here: whatever the protocol does (close, abort, an error) only
  // schedules connection_lost, with its own reference, so *this outlives this call.
  if (read_op_.buf) {
    take_received(std::string_view(static_cast<const char*>(read_op_.buf),
                                   static_cast<std::size_t>(read_op_.result)));
    return;
  }
  if (closing_) return;
  if (kind_ == Kind::write_pipe) {
    reader_gone();
    return;
  }
  if (read_op_.result < 0) {
    io_failed(static_cast<int>(-read_op_.result), "recv");
    return;
  }
  if (!reading_) return;
  std::span<char> buffer;
  if (buffered_protocol_) {
    try {
      buffer = buffered_protocol_->get_buffer(256 * 1024);
      if (buffer.empty()) throw RuntimeError("get_buffer() returned an empty buffer");
    } catch (...) {
      fatal_error(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
      return;
    }
  } else {
    buffer = scratch_buffer();
  }
  io_.kind = IoKind::recv;
  io_.buf = buffer.data();
  io_.len = buffer.size();
  const std::int64_t r = LoopInternals::backend(loop_).try_now(io_);
  if (r == -EAGAIN) {
    arm_read();
    return;
  }
  if (r < 0) {
    io_failed(static_cast<int>(-r), "recv");
    return;
  }
  if (r == 0) {
    deliver_eof();
    return;
  }
  try {
    if (buffered_protocol_) {
      buffered_protocol_->buffer_updated(static_cast<std::size_t>(r));
    } else if (stream_protocol_) {
      stream_protocol_->data_received(std::string_view(buffer.data(), static_cast<std::size_t>(r)));
    }
  } catch (...) {
    fatal_error(std::current_exception(),
                buffered_protocol_ ? "Fatal error: protocol.buffer_updated() call failed."
                                   : "Fatal error: protocol.data_received() call failed.");
    return;
  }
  if (reading_ && !closing_) arm_read();
}

// Data (or the end of the stream: empty) in a buffer the backend chose. The backend keeps
// receiving while reading is paused, so what arrives then waits here, as in asyncio's
// proactor transport, until resume_reading().
void StreamTransport::take_received(std::string_view data) {
  read_op_.buf = nullptr;
  if (closing_) return;
  if (!reading_) {
    if (data.empty()) {
      eof_held_ = true;
    } else {
      held_.append(data);
    }
    return;
  }
  if (data.empty()) {
    deliver_eof();
    return;
  }
  if (!deliver(data)) return;
  if (reading_ && !closing_) arm_read();
}

// Hands `data` to the protocol (copied into a BufferedProtocol's buffers); false if it failed.
// An error is reported under the name of the call that raised it, as asyncio does.
bool StreamTransport::deliver(std::string_view data) {
  const char* call = "Fatal error: protocol.data_received() call failed.";
  try {
    if (stream_protocol_) {
      stream_protocol_->data_received(data);
    } else if (buffered_protocol_) {
      while (!data.empty()) {
        call = "Fatal error: protocol.get_buffer() call failed.";
        std::span<char> buffer = buffered_protocol_->get_buffer(data.size());
        if (buffer.empty()) throw RuntimeError("get_buffer() returned an empty buffer");
        const std::size_t n = std::min(buffer.size(), data.size());
        std::memcpy(buffer.data(), data.data(), n);
        data.remove_prefix(n);
        call = "Fatal error: protocol.buffer_updated() call failed.";
        buffered_protocol_->buffer_updated(n);
      }
    }
  } catch (...) {
    fatal_error(std::current_exception(), call);
    return false;
  }
  return true;
}

void StreamTransport::deliver_eof() {
  reading_ = false;
  bool keep_open = false;
  try {
    if (stream_protocol_) keep_open = stream_protocol_->eof_received();
    if (buffered_protocol_) keep_open = buffered_protocol_->eof_received();
  } catch (...) {
    fatal_error(std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
    return;
  }
  // A pipe has nothing left to do after EOF; a socket stays half-open if the protocol asks.
  if (!keep_open || kind_ == Kind::read_pipe) close();
}

// A write pipe's own end became readable, or reported an error or a hang-up: the reader went
// away. What is still buffered can never be delivered (asyncio: BrokenPipeError).
void StreamTransport::reader_gone() {
  if (wbuf_.size() == woff_) {
    close();
    return;
  }
  force_close(std::make_exception_ptr(os_error(EPIPE, describe("write"))));
}

void StreamTransport::write(std::string_view data) {
  if (eof_pending_ || eof_written_) throw RuntimeError("Cannot call write() after write_eof()");
  if (sending_file_) throw RuntimeError("unable to write; sendfile is in progress");
  if (kind_ == Kind::read_pipe) throw RuntimeError("write() on a read-only pipe transport");
  if (data.empty()) return;
  // A pipe being closed (close() or write_eof()) takes no more, as asyncio's.
  if (lost_ || fd_ < 0 || (closing_ && kind_ == Kind::write_pipe)) {
    ++writes_after_close_;  // asyncio logs this after a few; the data goes nowhere either way
    return;
  }
  if (wbuf_.size() == woff_) {
    io_.kind = IoKind::send;
    io_.buf = const_cast<char*>(data.data());
    io_.len = data.size();
    const std::int64_t r = LoopInternals::backend(loop_).try_now(io_);
    if (r == static_cast<std::int64_t>(data.size())) return;
    if (r < 0 && r != -EAGAIN) {
      io_failed(static_cast<int>(-r), "send");
      return;
    }
    if (r > 0) data.remove_prefix(static_cast<std::size_t>(r));
    wbuf_.clear();
    woff_ = 0;
    wbuf_.append(data);
    LoopInternals::backend(loop_).start(write_op_);
  } else {
    wbuf_.append(data);
  }
  maybe_pause_protocol();
}

void StreamTransport::on_writable() {
  if (file_waiter_ && wbuf_.size() == woff_) {  // send_file() waited for writability
    wake_file_waiter(nullptr);
    return;
  }
  if (fd_ < 0 || wbuf_.size() == woff_) return;
  auto keep = self_;
  io_.kind = IoKind::send;
  io_.buf = wbuf_.data() + woff_;
  io_.len = wbuf_.size() - woff_;
  const std::int64_t r = LoopInternals::backend(loop_).try_now(io_);
  if (r < 0 && r != -EAGAIN) {
    io_failed(static_cast<int>(-r), "send");
    return;
  }
  if (r > 0) woff_ += static_cast<std::size_t>(r);
  if (woff_ == wbuf_.size()) {
    empty_buffer(wbuf_);
    woff_ = 0;
    flush_done();
    return;
  }
  // Keep the buffer from growing without bound at its front.
  if (woff_ > 64 * 1024 && woff_ * 2 > wbuf_.size()) {
    wbuf_.erase(0, woff_);
    woff_ = 0;
  }
  maybe_resume_protocol();
  LoopInternals::backend(loop_).start(write_op_);
}

// The write buffer is empty: tell the protocol, then finish a pending close or write_eof.
void StreamTransport::flush_done() {
  wake_file_waiter(nullptr);  // send_file() waited for the buffer
  maybe_resume_protocol();
  if (closing_) {
    call_connection_lost(nullptr);
  } else if (eof_pending_) {
    eof_pending_ = false;
    eof_written_ = true;
    ::shutdown(fd_, SHUT_WR);
  }
}

void StreamTransport::write_eof() {
  if (closing_ || eof_pending_ || eof_written_) return;
  if (!can_write_eof()) throw RuntimeError("write_eof() is not supported on a read pipe");
  if (kind_ == Kind::write_pipe) {  // all a pipe's reader can be told: closed once drained
    close();
    return;
  }
  if (wbuf_.size() == woff_) {
    eof_written_ = true;
    ::shutdown(fd_, SHUT_WR);
  } else {
    eof_pending_ = true;
  }
}

void StreamTransport::maybe_pause_protocol() {
  if (writing_paused_ || get_write_buffer_size() <= high_ || !protocol_) return;
  writing_paused_ = true;
  try {
    protocol_->pause_writing();
  } catch (...) {
    loop_.call_exception_handler(
        {"protocol.pause_writing() failed", std::current_exception(), std::nullopt});
  }
}

void StreamTransport::maybe_resume_protocol() {
  if (!writing_paused_ || get_write_buffer_size() > low_ || !protocol_) return;
  writing_paused_ = false;
  try {
    protocol_->resume_writing();
  } catch (...) {
    loop_.call_exception_handler(
        {"protocol.resume_writing() failed", std::current_exception(), std::nullopt});
  }
}

void StreamTransport::set_write_buffer_limits(std::optional<std::int64_t> high,
                                              std::optional<std::int64_t> low) {
  const WaterMarks marks = water_marks(high, low);
  high_ = marks.high;
  low_ = marks.low;
  maybe_pause_protocol();
}

void StreamTransport::pause_reading() {
  if (closing_ || !reading_) return;
  reading_ = false;
  // A readiness wait can simply stop; a receive into the backend's buffers runs on (what it
  // brings is held) and the backend stops it when too much is held.
  if (read_op_.kind != IoKind::receive) LoopInternals::backend(loop_).cancel(read_op_);
}

void StreamTransport::resume_reading() {
  if (closing_ || reading_ || kind_ == Kind::write_pipe) return;
  reading_ = true;
  if (held_.empty() && !eof_held_) {
    arm_read();
    return;
  }
  // What arrived while paused goes first, from the loop (asyncio's call_soon), then the rest.
  loop_.call_soon([self = self_] {
    if (!self || self->closing_ || !self->reading_) return;
    std::string data = std::move(self->held_);
    self->held_.clear();
    if (!data.empty() && !self->deliver(data)) return;
    if (self->eof_held_) {
      self->eof_held_ = false;
      if (self->reading_ && !self->closing_) self->deliver_eof();
      return;
    }
    if (self->reading_ && !self->closing_) self->arm_read();
  });
}

void StreamTransport::close() {
  if (closing_) return;
  closing_ = true;
  reading_ = false;
  LoopInternals::backend(loop_).cancel(read_op_);
  if (wbuf_.size() == woff_) {
    lost_ = true;
    loop_.call_soon([self = self_] { self->call_connection_lost(nullptr); });
  }
}

void StreamTransport::abort() {
  force_close(nullptr);
}

void StreamTransport::fatal_error(std::exception_ptr error, const char* message) {
  // Peers that vanish are routine (asyncio logs them only in debug mode); anything else goes
  // to the loop's exception handler.
  bool routine = false;
  try {
    std::rethrow_exception(error);
  } catch (const std::system_error& e) {
    routine = is_disconnect(e.code().value());
  } catch (...) {
  }
  if (!routine) loop_.call_exception_handler({message, error, std::nullopt});
  force_close(error);
}

void StreamTransport::force_close(std::exception_ptr error) {
  if (lost_) return;
  empty_buffer(wbuf_);
  woff_ = 0;
  LoopInternals::backend(loop_).cancel(write_op_);
  closing_ = true;
  reading_ = false;
  LoopInternals::backend(loop_).cancel(read_op_);
  lost_ = true;
  loop_.call_soon([self = self_, error] { self->call_connection_lost(error); });
}

void StreamTransport::call_connection_lost(std::exception_ptr error) {
  lost_ = true;
  auto keep = shared_from_this();
  if (file_waiter_) {  // send_file() waits: it ends with the connection
    wake_file_waiter(error ? error
                           : std::make_exception_ptr(os_error(ECONNRESET, "Connection is closed")));
  }
  std::shared_ptr<BaseProtocol> protocol = std::move(protocol_);
  stream_protocol_ = nullptr;
  buffered_protocol_ = nullptr;
  if (protocol) {
    try {
      protocol->connection_lost(error);
    } catch (...) {
      loop_.call_exception_handler(
          {"protocol.connection_lost() failed", std::current_exception(), std::nullopt});
    }
  }
  release_descriptor();
  LoopInternals::remove_resource(loop_, this);
  if (server_) {
    std::shared_ptr<ServerState> server = std::move(server_);
    server->detach(this);
  }
  self_.reset();
}

// A read or write failed: a vanished peer ends the connection quietly (connection_lost gets the
// error); anything else is reported to the loop's exception handler too.
void StreamTransport::io_failed(int err, const char* operation) {
  auto error = std::make_exception_ptr(os_error(err, describe(operation)));
  if (is_disconnect(err)) {
    force_close(error);  // drops the write buffer too
  } else {
    fatal_error(error, operation[0] == 's' ? "Fatal write error on socket transport"
                                           : "Fatal read error on socket transport");
  }
}

// "recv from 127.0.0.1:40312": the operation and, when the kernel still knows it, the peer.
std::string StreamTransport::describe(const char* operation) const {
  std::string text = operation;
  if (kind_ != Kind::socket) return text + " (pipe)";
  std::any peer = get_extra_info("peername");
  if (auto* address = std::any_cast<SocketAddress>(&peer)) {
    text += operation[0] == 's' ? " to " : " from ";
    text += address->to_string();
  }
  return text;
}

void StreamTransport::release_descriptor() noexcept {
  if (fd_ < 0) return;
  LoopInternals::backend(loop_).cancel(read_op_);
  LoopInternals::backend(loop_).cancel(write_op_);
  LoopInternals::backend(loop_).forget(fd_);
  ::close(fd_);
  fd_ = -1;
}

void StreamTransport::loop_closing() noexcept {
  closing_ = true;
  lost_ = true;
  release_descriptor();
  protocol_.reset();
  if (server_) {
    std::shared_ptr<ServerState> server = std::move(server_);
    server->detach(this);
  }
  auto last = std::move(self_);  // may destroy *this when `last` goes
}

// asyncio's: <_SelectorSocketTransport fd=6 read=polling write=<idle, bufsize=0>>.
std::string StreamTransport::transport_repr() const {
  std::string text = "<StreamTransport";
  if (fd_ < 0) {
    text += " closed";
  } else if (closing_) {
    text += " closing";
  }
  text += " fd=" + std::to_string(fd_);
  text += is_reading() ? " read=polling" : " read=idle";
  text += write_op_.pending ? " write=<polling" : " write=<idle";
  return text + ", bufsize=" + std::to_string(get_write_buffer_size()) + ">>";
}

std::any StreamTransport::get_extra_info(std::string_view key) const {
  if (kind_ != Kind::socket) {
    if (key == "pipe") return fd_;
    return {};
  }
  if (key == "socket") return fd_;
  if (key == "peername" && peername_) return *peername_;
  if (key == "sockname" && sockname_) return *sockname_;
  return {};
}

// Read once, at the start, as asyncio does: after a reset the kernel no longer knows the peer,
// and error messages still want to name it.
void StreamTransport::cache_addresses() {
  for (bool peer : {true, false}) {
    SocketAddress a;
    socklen_t len = SocketAddress::capacity();
    auto* sa = static_cast<sockaddr*>(a.data());
    if ((peer ? ::getpeername(fd_, sa, &len) : ::getsockname(fd_, sa, &len)) == 0) {
      a.set_size(len);
      (peer ? peername_ : sockname_) = a;
    }
  }
}

}  // namespace aio::detail
