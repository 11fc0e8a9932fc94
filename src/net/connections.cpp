// The loop's client-side factories, type-erased (aio/detail/connection_templates.hpp types them):
// create_connection, create_unix_connection, connect_accepted_socket.
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "aio/errors.hpp"
#include "aio/future.hpp"
#include "net/happy_eyeballs.hpp"
#include "net/socket_util.hpp"
#include "net/ssl_protocol.hpp"
#include "net/stream_transport.hpp"
#include "posix/os_error.hpp"

namespace aio {

namespace {

using ConnectionPair = std::pair<std::shared_ptr<Transport>, std::shared_ptr<BaseProtocol>>;

// Makes the transport, runs connection_made, and returns once it has (asyncio awaits the
// transport's waiter the same way). With TLS, the transport's protocol is an SSLProtocol and
// the wait lasts until the handshake is done; a failure or a cancellation closes the socket.
Coro<ConnectionPair> make_transport(EventLoop& loop, ProtocolFactory& factory, Socket sock,
                                    const std::optional<detail::TLSSettings>& tls) {
  std::shared_ptr<BaseProtocol> protocol = factory();
  if (!protocol) throw std::invalid_argument("the protocol factory returned no protocol");
  std::shared_ptr<detail::SSLProtocol> ssl;
  if (tls) ssl = std::make_shared<detail::SSLProtocol>(loop, protocol, *tls);
  std::shared_ptr<BaseProtocol> under = ssl ? std::shared_ptr<BaseProtocol>(ssl) : protocol;
  auto transport = std::make_shared<detail::StreamTransport>(
      loop, sock.fileno(), detail::StreamTransport::Kind::socket, under);
  sock.detach();
  Future<void> made = ssl ? ssl->handshake_done() : loop.create_future<void>();
  transport->start([made, tls = ssl != nullptr]() mutable {
    if (!tls && !made.done()) made.set_result();
  });
  std::exception_ptr failed;
  try {
    co_await made;
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    if (ssl) transport->abort();
    std::rethrow_exception(failed);
  }
  if (ssl) co_return ConnectionPair(ssl->app_transport(), std::move(protocol));
  co_return ConnectionPair(std::move(transport), std::move(protocol));
}

}  // namespace

Coro<ConnectionPair> EventLoop::open_connection_to(ProtocolFactory factory, std::string host,
                                                   std::string port, ConnectOptions options) {
  check_open();
  if (!factory) throw std::invalid_argument("create_connection(): no protocol factory");
  if (options.ssl && host.empty() && !options.server_hostname) {
    throw std::invalid_argument("You must set server_hostname when using ssl without a host");
  }
  const std::optional<detail::TLSSettings> tls = detail::client_tls_settings(options, host);
  std::vector<AddressInfo> infos =
      co_await getaddrinfo(host, port, options.family, SocketType::stream, false);
  if (infos.empty()) {
    throw detail::os_error(EADDRNOTAVAIL, "getaddrinfo(" + host + ") returned no addresses");
  }
  const std::optional<int> interleave =
      options.interleave ? options.interleave
                         : (options.happy_eyeballs_delay ? std::optional<int>(1) : std::nullopt);
  if (interleave && *interleave != 0) infos = detail::interleave_addresses(infos, *interleave);
  std::optional<double> delay;
  if (options.happy_eyeballs_delay) delay = options.happy_eyeballs_delay->seconds();
  Socket sock = co_await detail::connect_first(*this, std::move(infos), options.local_addr, delay);
  sock.set_nodelay();
  ConnectionPair made = co_await make_transport(*this, factory, std::move(sock), tls);
  co_return made;
}

Coro<ConnectionPair> EventLoop::open_unix_connection_to(ProtocolFactory factory, std::string path,
                                                        ConnectOptions options) {
  check_open();
  if (!factory) throw std::invalid_argument("create_unix_connection(): no protocol factory");
  if (options.ssl && !options.server_hostname && options.ssl->check_hostname()) {
    throw std::invalid_argument("You must set server_hostname when using ssl without a host");
  }
  const std::optional<detail::TLSSettings> tls = detail::client_tls_settings(options, "");
  const SocketAddress address = SocketAddress::unix_path(path);
  Socket sock(AddressFamily::unix_domain, SocketType::stream);
  co_await sock_connect(sock, address);
  ConnectionPair made = co_await make_transport(*this, factory, std::move(sock), tls);
  co_return made;
}

Coro<ConnectionPair> EventLoop::open_accepted_socket(ProtocolFactory factory, Socket sock,
                                                     AcceptedSocketOptions options) {
  check_open();
  if (!factory) throw std::invalid_argument("connect_accepted_socket(): no protocol factory");
  if (!sock) throw std::invalid_argument("connect_accepted_socket(): the socket is closed");
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(sock.fileno(), SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
    throw std::invalid_argument("A Stream Socket was expected, got fd " +
                                std::to_string(sock.fileno()));
  }
  const std::optional<detail::TLSSettings> tls =
      detail::server_tls_settings(options.ssl, options.ssl_handshake_timeout,
                                  options.ssl_shutdown_timeout, "connect_accepted_socket");
  // asyncio's socket transports turn Nagle off for TCP, whoever made the socket.
  const AddressFamily family = sock.family();
  if (family == AddressFamily::ipv4 || family == AddressFamily::ipv6) sock.set_nodelay();
  ConnectionPair made = co_await make_transport(*this, factory, std::move(sock), tls);
  co_return made;
}

}  // namespace aio
