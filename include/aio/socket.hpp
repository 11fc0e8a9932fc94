// aio/socket.hpp — what asyncio takes from the socket module: addresses, sockets, getaddrinfo.
//
// `SocketAddress` (aio/socket_address.hpp) is an IPv4, IPv6 or Unix-domain address (asyncio's
// `(host, port)` tuples and path strings), kept in opaque storage so no header names a Linux
// type. `Socket` owns one non-blocking, close-on-exec descriptor: what the loop's sock_*
// methods (asyncio's loop.sock_recv, sock_sendall, sock_connect, sock_accept) take. `getaddrinfo`
// resolves on the loop's default executor, as asyncio does; a numeric host is parsed at once
// without a thread. OS errors are std::system_error whose what() names the operation and the
// address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/socket_address.hpp"

namespace aio {

/// A non-blocking, close-on-exec socket that owns its descriptor.
class Socket {
 public:
  Socket() = default;
  /// A new socket; std::system_error naming "socket" when the kernel refuses.
  Socket(AddressFamily family, SocketType type);
  /// Adopts a descriptor (made non-blocking here).
  static Socket adopt(int fd);
  ~Socket() { close(); }
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fileno() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Closes the descriptor (idempotent).
  void close() noexcept;
  /// Gives the descriptor up without closing it.
  int detach() noexcept { return std::exchange(fd_, -1); }

  void bind(const SocketAddress& address);
  void listen(int backlog = 100);
  SocketAddress sockname() const;
  SocketAddress peername() const;
  void set_reuse_address(bool on = true);
  void set_reuse_port(bool on = true);
  void set_nodelay(bool on = true);
  /// Shuts down the write side (SHUT_WR): the peer reads EOF.
  void shutdown_write();
  AddressFamily family() const;

 private:
  explicit Socket(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

/// Resolves `host` (a name or a numeric address; empty: the wildcard address when `passive`,
/// the loopback ones otherwise) and `port` on the running loop's default executor;
/// std::system_error (category "getaddrinfo") when the name cannot be resolved. `family`
/// unspecified gives both IPv4 and IPv6 results.
Coro<std::vector<AddressInfo>> getaddrinfo(std::string host, std::uint16_t port,
                                           AddressFamily family = AddressFamily::unspecified,
                                           SocketType type = SocketType::stream,
                                           bool passive = false);
/// The port as a string, as asyncio takes it: digits ("6379"), "" for 0, or a service name
/// ("http", looked up in /etc/services).
Coro<std::vector<AddressInfo>> getaddrinfo(std::string host, std::string port,
                                           AddressFamily family = AddressFamily::unspecified,
                                           SocketType type = SocketType::stream,
                                           bool passive = false);

}  // namespace aio
