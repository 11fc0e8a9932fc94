// aio/network_options.hpp — the options the loop's connection factories and the streams'
// functions take (asyncio's keyword arguments: ConnectOptions, ServerOptions,
// AcceptedSocketOptions, DatagramOptions) and the protocol factories' types. Declarations
// only, so that aio/loop.hpp can declare its networking methods without the transports,
// protocols and sockets behind them (aio/protocols.hpp, aio/socket.hpp, aio/ssl.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aio/duration.hpp"
#include "aio/socket_address.hpp"

namespace aio {

class BaseProtocol;      // aio/protocols.hpp
class DatagramProtocol;  // aio/protocols.hpp
class SSLContext;        // aio/ssl.hpp

/// Options of create_connection / open_connection.
struct ConnectOptions {
  std::int64_t limit = 64 * 1024;  ///< the StreamReader's buffer limit (streams only)
  std::optional<SocketAddress> local_addr;
  AddressFamily family = AddressFamily::unspecified;
  /// TLS (asyncio's ssl=): a client context (aio/ssl.hpp); nullptr for plain TCP.
  std::shared_ptr<SSLContext> ssl;
  /// The name to check the certificate against and to send as SNI; nullopt: the host
  /// connected to; "": none (then the context must not check_hostname).
  std::optional<std::string> server_hostname;
  /// How long the TLS handshake may take (nullopt: 60 s) and the closing one (nullopt: 30 s).
  std::optional<Duration> ssl_handshake_timeout;
  std::optional<Duration> ssl_shutdown_timeout;
  /// Happy eyeballs (RFC 8305, asyncio's happy_eyeballs_delay): the next address's attempt
  /// starts this long after the previous one did, or at once when it fails; the first to
  /// connect wins and the others are cancelled. nullopt: one address at a time, each waited
  /// for (0.25 s is RFC 8305's recommendation).
  std::optional<Duration> happy_eyeballs_delay;
  /// Reorders the resolved addresses so that families alternate, this many of the first family
  /// first (asyncio's interleave); nullopt: 1 with happy_eyeballs_delay, else as resolved; 0:
  /// as resolved.
  std::optional<int> interleave;
};

/// Options of create_server / start_server.
struct ServerOptions {
  int backlog = 100;
  bool reuse_port = false;
  bool reuse_address = true;
  /// SO_KEEPALIVE on the listening sockets, which the connections they accept inherit (asyncio
  /// 3.13's keep_alive=True): the kernel probes idle peers and ends dead connections. TCP only.
  bool keep_alive = false;
  std::int64_t limit = 64 * 1024;  ///< each connection's StreamReader limit (streams only)
  bool start_serving = true;
  AddressFamily family = AddressFamily::unspecified;
  /// TLS (asyncio's ssl=): a server context with a certificate; nullptr for plain TCP.
  std::shared_ptr<SSLContext> ssl;
  /// As in ConnectOptions: nullopt means 60 s and 30 s.
  std::optional<Duration> ssl_handshake_timeout;
  std::optional<Duration> ssl_shutdown_timeout;
  /// create_unix_server / start_unix_server: close() removes the socket file, if it is still
  /// the one the server made (asyncio 3.13's cleanup_socket); false leaves it.
  bool cleanup_socket = true;
};

/// Options of connect_accepted_socket: asyncio's keywords, the server's side of TLS.
struct AcceptedSocketOptions {
  /// A server context (aio/ssl.hpp) to speak TLS as the server; nullptr for plain TCP.
  std::shared_ptr<SSLContext> ssl;
  /// As in ConnectOptions: nullopt means 60 s and 30 s; only meaningful with ssl.
  std::optional<Duration> ssl_handshake_timeout;
  std::optional<Duration> ssl_shutdown_timeout;
};

/// Options of create_datagram_endpoint.
struct DatagramOptions {
  std::optional<SocketAddress> local_addr;
  std::optional<SocketAddress> remote_addr;
  bool reuse_port = false;
  bool allow_broadcast = false;
  AddressFamily family = AddressFamily::unspecified;
};

/// What a stream protocol factory gives: a new protocol for each connection.
using ProtocolFactory = std::function<std::shared_ptr<BaseProtocol>()>;
using DatagramProtocolFactory = std::function<std::shared_ptr<DatagramProtocol>()>;

}  // namespace aio
