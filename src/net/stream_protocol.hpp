// The protocol under a stream pair (asyncio's StreamReaderProtocol with FlowControlMixin):
// it feeds the StreamReader, lets drain() wait while the transport's buffer is over its
// high-water mark, and on a server runs the connection handler as a task.
#pragma once

#include <exception>
#include <memory>
#include <optional>

#include "aio/detail/wait_queue.hpp"
#include "aio/future.hpp"
#include "aio/protocols.hpp"
#include "aio/streams.hpp"
#include "aio/task.hpp"

namespace aio::detail {

class StreamProtocol;

class StreamWriterState {
 public:
  StreamWriterState(std::shared_ptr<Transport> transport, std::shared_ptr<StreamProtocol> protocol,
                    std::optional<StreamReader> reader)
      : transport(std::move(transport)), protocol(std::move(protocol)), reader(std::move(reader)) {}
  /// The last handle went: close the transport, as asyncio's StreamWriter.__del__ does.
  ~StreamWriterState();

  std::shared_ptr<Transport> transport;
  std::shared_ptr<StreamProtocol> protocol;
  std::optional<StreamReader> reader;
};

class StreamProtocol final : public Protocol, public std::enable_shared_from_this<StreamProtocol> {
 public:
  StreamProtocol(EventLoop& loop, StreamReader reader, ClientConnected handler = {});
  /// A read-only stream (a subprocess's stdout): connection_made makes no writer.
  static std::shared_ptr<StreamProtocol> reader_only(EventLoop& loop, StreamReader reader) {
    auto p = std::make_shared<StreamProtocol>(loop, std::move(reader));
    p->wants_writer_ = false;
    return p;
  }

  void connection_made(std::shared_ptr<Transport> transport) override;
  void connection_lost(std::exception_ptr error) override;
  void data_received(std::string_view data) override;
  bool eof_received() override;
  void pause_writing() override { paused_ = true; }
  void resume_writing() override;

  /// drain()'s wait: returns when writing may go on; throws once the connection is lost.
  Coro<void> drain_helper();
  /// wait_closed(): completes when connection_lost ran, failing with its error if any.
  Coro<void> wait_closed();
  bool connection_lost_seen() const noexcept { return lost_; }
  /// drain() has nothing to wait for (the common case: no coroutine, no reference counting).
  bool writable_now() const noexcept { return !paused_ && !lost_; }
  /// A start_server handler's stream (start_tls is then the server's side).
  bool server_side() const noexcept { return static_cast<bool>(handler_); }
  /// start_tls: the reader's flow control now pauses the TLS transport.
  void replace_transport(Transport* transport) { reader_.set_transport(transport); }

  /// Client side: the writer made for this connection.
  std::shared_ptr<StreamWriterState> writer;

 private:
  EventLoop& loop_;
  StreamReader reader_;
  ClientConnected handler_;
  std::optional<Task<void>> task_;
  WaitQueue drain_waiters_{"StreamWriter.drain()"};
  std::optional<Future<void>> closed_;
  std::exception_ptr lost_error_;
  bool paused_ = false;
  bool lost_ = false;
  bool wants_writer_ = true;
};

}  // namespace aio::detail
