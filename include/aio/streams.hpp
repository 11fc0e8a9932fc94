// aio/streams.hpp — asyncio's streams: open_connection, start_server, StreamReader, StreamWriter.
//
// Streams are built on transports and protocols, as in asyncio: a stream protocol feeds the
// StreamReader with what the transport reads and lets StreamWriter::drain() wait while the
// transport's write buffer is over its high-water mark. StreamReader and StreamWriter are
// handles (copies share one stream), so a connection handler takes them by value.
//
//   asyncio                                    aio
//   reader, writer = await open_connection()   auto [reader, writer] = co_await open_connection()
//   line = await reader.readline()             std::string line = co_await reader.readline();
//   writer.write(data); await writer.drain()   writer.write(data); co_await writer.drain();
//   async for line in reader                   while (auto line = co_await reader.next_line())
#pragma once

#include <any>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "aio/coro.hpp"
#include "aio/protocols.hpp"
#include "aio/socket.hpp"

namespace aio {

namespace detail {
class StreamReaderState;
class StreamWriterState;
}  // namespace detail

/// asyncio.StreamReader. Reads wait for data fed by the transport (or by feed_data()); only
/// one coroutine may wait at a time (RuntimeError otherwise, as in asyncio).
class StreamReader {
 public:
  static constexpr std::int64_t default_limit = 64 * 1024;

  /// A reader on the running loop (or the thread's current loop); std::invalid_argument
  /// unless limit > 0.
  explicit StreamReader(std::int64_t limit = default_limit);
  explicit StreamReader(std::shared_ptr<detail::StreamReaderState> state)
      : state_(std::move(state)) {}

  /// Up to n bytes (n < 0: everything until EOF); waits for some data if none is buffered;
  /// "" at EOF.
  Coro<std::string> read(std::int64_t n = -1);
  /// A line with its '\n' (the last one at EOF may lack it; "" at EOF). A line longer than the
  /// limit is discarded and std::invalid_argument thrown (asyncio's ValueError).
  Coro<std::string> readline();
  /// Exactly n bytes; IncompleteReadError at EOF before that; std::invalid_argument if n < 0.
  Coro<std::string> readexactly(std::int64_t n);
  /// Data up to and including `separator`; LimitOverrunError past the limit (the data stays
  /// buffered), IncompleteReadError at EOF (the buffer is emptied into it).
  Coro<std::string> readuntil(std::string_view separator = "\n");
  /// Data up to the separator that ends first.
  Coro<std::string> readuntil(std::span<const std::string_view> separators);
  /// `async for line in reader`: the next line, or nullopt at EOF.
  Coro<std::optional<std::string>> next_line();

  /// EOF was fed and the buffer is empty.
  bool at_eof() const noexcept;
  void feed_data(std::string_view data);
  void feed_eof();
  /// Wakes a waiting read with `error`; every later read throws it.
  void set_exception(std::exception_ptr error);
  std::exception_ptr exception() const noexcept;
  std::int64_t limit() const noexcept;
  /// Bytes buffered and not yet read.
  std::size_t buffered() const noexcept;
  /// asyncio's repr: "<StreamReader>", "<StreamReader 4 bytes eof limit=123>", ...
  std::string repr() const;
  /// For flow control: the transport to pause when more than 2 × limit is buffered.
  void set_transport(Transport* transport) noexcept;

  detail::StreamReaderState* state() const noexcept { return state_.get(); }

 private:
  std::shared_ptr<detail::StreamReaderState> state_;
};

/// asyncio.StreamWriter.
class StreamWriter {
 public:
  StreamWriter() = default;
  explicit StreamWriter(std::shared_ptr<detail::StreamWriterState> state)
      : state_(std::move(state)) {}

  void write(std::string_view data);
  template <class Range>
  void writelines(const Range& chunks) {
    for (const auto& chunk : chunks) write(std::string_view(chunk));
  }
  /// Waits while the transport's buffer is over its high-water mark; after the connection was
  /// lost, throws its error (ConnectionResetError as std::system_error when it closed).
  Coro<void> drain();
  void write_eof();
  bool can_write_eof() const noexcept;
  void close();
  bool is_closing() const noexcept;
  /// Waits until the connection is closed (connection_lost ran); rethrows its error.
  Coro<void> wait_closed();
  SocketAddress peername() const;
  SocketAddress sockname() const;
  std::any get_extra_info(std::string_view key) const;
  Transport& transport() const;
  /// Upgrades the connection to TLS in place (asyncio 3.11's StreamWriter.start_tls): drains,
  /// then runs the handshake (the side is the stream's: a start_server handler's writer is
  /// the server); the reader and writer then speak TLS. Errors as EventLoop::start_tls.
  Coro<void> start_tls(std::shared_ptr<SSLContext> sslcontext,
                       std::optional<std::string> server_hostname = {},
                       std::optional<Duration> ssl_handshake_timeout = {},
                       std::optional<Duration> ssl_shutdown_timeout = {});

  detail::StreamWriterState* state() const noexcept { return state_.get(); }

 private:
  std::shared_ptr<detail::StreamWriterState> state_;
};

using StreamPair = std::pair<StreamReader, StreamWriter>;
/// A start_server handler: one task per connection runs it.
using ClientConnected = std::function<Coro<void>(StreamReader, StreamWriter)>;

/// Connects to host:port (resolving it; each address is tried in turn, or raced with
/// ConnectOptions::happy_eyeballs_delay). The port may be a string, as in asyncio: digits or a
/// service name ("http").
Coro<StreamPair> open_connection(std::string host, std::uint16_t port, ConnectOptions options = {});
Coro<StreamPair> open_connection(std::string host, std::string port, ConnectOptions options = {});
/// Listens on host:port ("" or "0.0.0.0": every IPv4 address; port 0: a free one).
Coro<Server> start_server(ClientConnected handler, std::string host, std::uint16_t port,
                          ServerOptions options = {});
Coro<StreamPair> open_unix_connection(std::string path, ConnectOptions options = {});
Coro<Server> start_unix_server(ClientConnected handler, std::string path,
                               ServerOptions options = {});

}  // namespace aio
