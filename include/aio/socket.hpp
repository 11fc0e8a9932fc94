// aio/socket.hpp — what asyncio takes from the socket module: addresses, sockets, getaddrinfo.
//
// `SocketAddress` is an IPv4, IPv6 or Unix-domain address (asyncio's `(host, port)` tuples and
// path strings), kept in opaque storage so this header names no Linux type. `Socket` owns one
// non-blocking, close-on-exec descriptor: what the loop's sock_* methods (asyncio's
// loop.sock_recv, sock_sendall, sock_connect, sock_accept) take. `getaddrinfo` resolves on the
// loop's default executor, as asyncio does; a numeric host is parsed at once without a thread.
// OS errors are std::system_error whose what() names the operation and the address.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aio/coro.hpp"

namespace aio {

enum class AddressFamily : std::uint8_t { unspecified, ipv4, ipv6, unix_domain };
enum class SocketType : std::uint8_t { stream, datagram };

class SocketAddress {
 public:
  SocketAddress() = default;
  /// A numeric IPv4 or IPv6 address ("127.0.0.1", "::1"); std::invalid_argument otherwise.
  static SocketAddress ip(std::string_view host, std::uint16_t port);
  /// A Unix-domain path (a leading '\0' names an abstract socket); std::invalid_argument if it
  /// does not fit in sun_path.
  static SocketAddress unix_path(std::string_view path);
  /// From a raw sockaddr of `length` bytes (as the kernel fills it in).
  static SocketAddress from_raw(const void* sockaddr, std::size_t length);

  AddressFamily family() const noexcept { return family_; }
  /// The numeric host ("127.0.0.1", "::1"), or the path of a Unix address.
  std::string host() const;
  /// The port (0 for a Unix address).
  std::uint16_t port() const noexcept;
  /// "127.0.0.1:8888", "[::1]:8888", "/tmp/sock" (what error messages show).
  std::string to_string() const;

  const void* data() const noexcept { return storage_.data(); }
  void* data() noexcept { return storage_.data(); }
  std::uint32_t size() const noexcept { return length_; }
  static constexpr std::uint32_t capacity() noexcept { return 128; }
  /// After the kernel wrote a sockaddr into data(): take its length and family.
  void set_size(std::uint32_t length) noexcept;

  bool operator==(const SocketAddress& other) const noexcept;

 private:
  alignas(8) std::array<std::byte, 128> storage_{};  // a sockaddr_storage
  std::uint32_t length_ = 0;
  AddressFamily family_ = AddressFamily::unspecified;
};

/// One result of getaddrinfo().
struct AddressInfo {
  AddressFamily family;
  SocketType type;
  SocketAddress address;
};

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
