// aio/socket_address.hpp — the address types asyncio's calls take and give: AddressFamily,
// SocketType, SocketAddress (asyncio's `(host, port)` tuples and Unix paths) and AddressInfo
// (one result of getaddrinfo). Values only, no I/O: the loop's declarations and the connection
// options use them without the sockets, transports and streams built on them (aio/socket.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace aio
