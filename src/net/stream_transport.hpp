// The transport of a stream socket or a pipe: asyncio's _SelectorSocketTransport and
// _UnixReadPipeTransport/_UnixWritePipeTransport in one class (a pipe is a stream that reads or
// writes only).
//
// Reading: a standing readiness operation; when it completes, one read into the thread's
// scratch buffer (or the BufferedProtocol's buffer) goes to the protocol, and the operation is
// started again unless reading was paused. Where the backend receives into its own buffers
// (io_uring), the operation brings the data itself. Writing: write() sends at once what the kernel
// takes and buffers the rest, which a write operation flushes; pause_writing()/
// resume_writing() tell the protocol when the buffer crosses the water marks. A write pipe (or
// socket) waits for its own end to become readable instead: that, or an error or a hang-up,
// means the reader went away, and the transport closes (asyncio's _UnixWritePipeTransport).
// loop.sendfile's zero-copy path (sendfile.cpp) takes the write side over once the buffer has
// drained.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "aio/future.hpp"
#include "aio/loop.hpp"
#include "aio/protocols.hpp"
#include "core/loop_resource.hpp"
#include "io/io_op.hpp"
#include "net/sendfile.hpp"

namespace aio::detail {

class ServerState;

class StreamTransport final : public Transport,
                              public LoopResource,
                              public SendfileTransport,
                              public std::enable_shared_from_this<StreamTransport> {
 public:
  enum class Kind : std::uint8_t { socket, read_pipe, write_pipe };

  /// Takes ownership of `fd` (non-blocking). Call start() next.
  StreamTransport(EventLoop& loop, int fd, Kind kind, std::shared_ptr<BaseProtocol> protocol,
                  std::shared_ptr<ServerState> server = nullptr);
  ~StreamTransport() override;

  /// Schedules connection_made and the first read (asyncio's call_soon order); `ready`, when
  /// given, is called after connection_made.
  void start(std::function<void()> ready = {});

  void write(std::string_view data) override;
  void write_eof() override;
  /// A socket shuts its write side down; a write pipe closes (asyncio's pipes do the same).
  bool can_write_eof() const noexcept override { return kind_ != Kind::read_pipe; }
  void close() override;
  void abort() override;
  bool is_closing() const noexcept override { return closing_; }
  void pause_reading() override;
  void resume_reading() override;
  bool is_reading() const noexcept override { return reading_ && !closing_; }
  std::size_t get_write_buffer_size() const noexcept override { return wbuf_.size() - woff_; }
  void set_write_buffer_limits(std::optional<std::int64_t> high,
                               std::optional<std::int64_t> low) override;
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override {
    return {low_, high_};
  }
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() const override { return protocol_; }
  std::any get_extra_info(std::string_view key) const override;

  void loop_closing() noexcept override;
  int transport_fd() const noexcept override {
    return kind_ == Kind::socket && !closing_ ? fd_ : -1;  // asyncio's pipes are not listed
  }
  std::string transport_repr() const override;
  int fd() const noexcept { return fd_; }

  // ---- loop.sendfile (sendfile.cpp) ----
  Mode sendfile_mode() const noexcept override {
    return kind_ == Kind::socket ? Mode::try_native : Mode::unsupported;
  }
  bool protocol_paused() const noexcept override { return writing_paused_; }
  std::shared_ptr<Transport> keep_alive() override { return shared_from_this(); }
  /// asyncio's _sendfile_native: once the write buffer has drained, sendfile(2) straight from
  /// `file`, reading paused and write() refused meanwhile. SendfileNotAvailableError when the
  /// file is not a regular one or the first call fails (the caller falls back).
  Coro<std::int64_t> send_file(int file, std::int64_t offset, std::optional<std::int64_t> count);

 private:
  struct ReadReady final : IoOp {
    StreamTransport* owner = nullptr;
    void run() override { owner->on_readable(); }
  };
  struct WriteReady final : IoOp {
    StreamTransport* owner = nullptr;
    void run() override { owner->on_writable(); }
  };

  void arm_read();
  void on_readable();
  void take_received(std::string_view data);
  bool deliver(std::string_view data);
  void on_writable();
  void deliver_eof();
  void reader_gone();
  void flush_done();
  void maybe_pause_protocol();
  void maybe_resume_protocol();
  void fatal_error(std::exception_ptr error, const char* message);
  void force_close(std::exception_ptr error);
  void call_connection_lost(std::exception_ptr error);
  void release_descriptor() noexcept;
  std::string describe(const char* operation) const;
  void io_failed(int err, const char* operation);
  void cache_addresses();
  Future<void> file_turn();
  void wake_file_waiter(std::exception_ptr error);

  EventLoop& loop_;
  int fd_;
  Kind kind_;
  std::shared_ptr<BaseProtocol> protocol_;
  Protocol* stream_protocol_ = nullptr;            // protocol_ as a Protocol, or
  BufferedProtocol* buffered_protocol_ = nullptr;  // as a BufferedProtocol
  std::shared_ptr<ServerState> server_;
  std::shared_ptr<StreamTransport> self_;  // the loop's reference while the transport is open
  ReadReady read_op_;
  WriteReady write_op_;
  TryOp io_;  // scratch for try_now() calls
  std::string wbuf_;
  std::size_t woff_ = 0;
  std::string held_;       // received while reading was paused (backend-chosen buffers)
  bool eof_held_ = false;  // the end of the stream arrived while paused
  std::size_t high_ = 64 * 1024;
  std::size_t low_ = 16 * 1024;
  bool closing_ = false;
  bool reading_ = false;      // reads wanted (not paused)
  bool eof_pending_ = false;  // write_eof() called: shut down after the buffer drains
  bool eof_written_ = false;
  bool writing_paused_ = false;              // the protocol was told pause_writing()
  bool watches_reader_ = false;              // a write pipe or socket: read_op_ tells when the
                                             // reader goes
  bool lost_ = false;                        // connection_lost scheduled or done
  bool sending_file_ = false;                // send_file() runs: write() refuses
  std::optional<Future<void>> file_waiter_;  // send_file() waits: the buffer drained, writable
  std::uint32_t writes_after_close_ = 0;
  std::optional<SocketAddress> peername_;
  std::optional<SocketAddress> sockname_;
};

}  // namespace aio::detail
