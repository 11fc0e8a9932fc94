// aio/protocols.hpp — asyncio's transports and protocols, and the Server they share with streams.
//
// A transport owns a connection (a socket or a pipe) and calls its protocol's methods from the
// loop, exactly as asyncio does: connection_made, then data_received/eof_received as bytes and
// EOF arrive, pause_writing/resume_writing as the write buffer crosses its high/low water marks
// (64 KiB / 16 KiB by default), and connection_lost once, last. The loop's factories
// (EventLoop::create_connection, create_server, create_unix_connection, create_unix_server,
// create_datagram_endpoint, connect_accepted_socket) build them. With ConnectOptions::ssl /
// ServerOptions::ssl (asyncio's ssl=) the transport a protocol is given speaks TLS (aio/ssl.hpp),
// and connection_made comes once the handshake is done.
//
// Ownership: transports and protocols are shared_ptrs. The loop keeps a transport alive while
// it is open; the transport keeps its protocol until connection_lost has returned, then drops
// it, so a protocol may hold its transport without a cycle outliving the connection.
#pragma once

#include <any>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/duration.hpp"
#include "aio/network_options.hpp"
#include "aio/socket.hpp"

namespace aio {

class Transport;
class DatagramTransport;

/// asyncio.BaseProtocol: what every stream protocol hears.
class BaseProtocol {
 public:
  virtual ~BaseProtocol() = default;
  virtual void connection_made(std::shared_ptr<Transport> transport) { (void)transport; }
  /// nullptr: closed normally (EOF or close()); otherwise the error that ended it.
  virtual void connection_lost(std::exception_ptr error) { (void)error; }
  /// The transport's write buffer went over the high-water mark ...
  virtual void pause_writing() {}
  /// ... and drained to the low-water mark.
  virtual void resume_writing() {}
};

/// asyncio.Protocol: bytes arrive as they come.
class Protocol : public BaseProtocol {
 public:
  /// `data` is valid only during the call.
  virtual void data_received(std::string_view data) { (void)data; }
  /// The peer closed its side. Return true to keep the connection (half-open) for writing;
  /// false closes the transport.
  virtual bool eof_received() { return false; }
};

/// asyncio.BufferedProtocol: the transport reads straight into the protocol's buffer.
class BufferedProtocol : public BaseProtocol {
 public:
  /// A buffer for the next read (`size_hint` is a suggestion; an empty span is an error).
  virtual std::span<char> get_buffer(std::size_t size_hint) = 0;
  /// `nbytes` bytes were written at the start of the last buffer.
  virtual void buffer_updated(std::size_t nbytes) = 0;
  virtual bool eof_received() { return false; }
};

/// asyncio.DatagramProtocol (a separate root here: its transport is a DatagramTransport).
class DatagramProtocol {
 public:
  virtual ~DatagramProtocol() = default;
  virtual void connection_made(std::shared_ptr<DatagramTransport> transport) { (void)transport; }
  virtual void datagram_received(std::string_view data, const SocketAddress& from) {
    (void)data;
    (void)from;
  }
  /// A send or receive failed (e.g. ICMP port unreachable on a connected socket).
  virtual void error_received(std::exception_ptr error) { (void)error; }
  virtual void connection_lost(std::exception_ptr error) { (void)error; }
};

/// asyncio.BaseTransport.
class BaseTransport {
 public:
  virtual ~BaseTransport() = default;
  /// Closes after the buffered data is sent; connection_lost(nullptr) follows.
  virtual void close() = 0;
  virtual bool is_closing() const noexcept = 0;
  /// "peername", "sockname" (SocketAddress), "socket" (the descriptor, int), "pipe" (int); a
  /// TLS transport adds "ssl_object" (SSLObject), "peercert" (PeerCertificate), "cipher"
  /// (CipherInfo) and "sslcontext" (std::shared_ptr<SSLContext>), see aio/ssl.hpp; an empty
  /// std::any for anything else.
  virtual std::any get_extra_info(std::string_view key) const = 0;
};

/// asyncio.Transport: a read and write transport over a stream socket or a pipe.
class Transport : public BaseTransport {
 public:
  /// Sends at once what the kernel takes, buffers the rest. After close(): ignored (asyncio
  /// logs it); after write_eof(): RuntimeError.
  virtual void write(std::string_view data) = 0;
  template <class Range>
  void writelines(const Range& chunks) {
    for (const auto& chunk : chunks) write(std::string_view(chunk));
  }
  /// Closes the write side after the buffered data is sent.
  virtual void write_eof() = 0;
  virtual bool can_write_eof() const noexcept = 0;
  /// Closes at once, dropping buffered data; connection_lost(nullptr) follows.
  virtual void abort() = 0;
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  virtual bool is_reading() const noexcept = 0;
  virtual std::size_t get_write_buffer_size() const noexcept = 0;
  /// High and low water marks; a missing high is 64 KiB (or 4 × low), a missing low high / 4.
  /// std::invalid_argument unless high >= low >= 0.
  virtual void set_write_buffer_limits(std::optional<std::int64_t> high = std::nullopt,
                                       std::optional<std::int64_t> low = std::nullopt) = 0;
  /// (low, high), in asyncio's order.
  virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept = 0;
  virtual void set_protocol(std::shared_ptr<BaseProtocol> protocol) = 0;
  virtual std::shared_ptr<BaseProtocol> get_protocol() const = 0;
};

/// asyncio.DatagramTransport.
class DatagramTransport : public BaseTransport {
 public:
  /// Sends one datagram to `to` (or to the connected peer when omitted).
  virtual void sendto(std::string_view data, std::optional<SocketAddress> to = std::nullopt) = 0;
  virtual void abort() = 0;
  virtual std::size_t get_write_buffer_size() const noexcept = 0;
};

namespace detail {
class ServerState;
}

/// asyncio.Server: listening sockets and the connections they accepted. A handle: copies share
/// one server.
class Server {
 public:
  Server() = default;
  explicit Server(std::shared_ptr<detail::ServerState> state) : state_(std::move(state)) {}

  /// Starts accepting (if not yet) and waits until the server is closed; cancelling it closes
  /// the server.
  Coro<void> serve_forever();
  /// Starts accepting connections (idempotent).
  void start_serving();
  bool is_serving() const noexcept;
  /// Stops listening; open connections stay (asyncio 3.12+). Idempotent.
  void close();
  /// Closes every open connection (asyncio 3.13 close_clients / abort_clients).
  void close_clients();
  void abort_clients();
  /// Waits until the server is closed and its connections are gone.
  Coro<void> wait_closed();
  /// The listening addresses.
  std::vector<SocketAddress> sockets() const;
  /// The bound port of the first socket (the one to connect to after binding port 0).
  std::uint16_t port() const;

  detail::ServerState* state() const noexcept { return state_.get(); }

 private:
  std::shared_ptr<detail::ServerState> state_;
};

}  // namespace aio

#include "aio/detail/connection_templates.hpp"  // the loop's connection factories
