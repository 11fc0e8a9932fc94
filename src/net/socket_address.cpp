// SocketAddress: sockaddr_in / sockaddr_in6 / sockaddr_un behind an opaque buffer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <stdexcept>

#include "aio/socket.hpp"

namespace aio {

static_assert(sizeof(sockaddr_storage) <= SocketAddress::capacity());

SocketAddress SocketAddress::ip(std::string_view host, std::uint16_t port) {
  SocketAddress a;
  const std::string text(host);
  auto* v4 = static_cast<sockaddr_in*>(a.data());
  if (::inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.length_ = sizeof(sockaddr_in);
    a.family_ = AddressFamily::ipv4;
    return a;
  }
  a = SocketAddress{};
  auto* v6 = static_cast<sockaddr_in6*>(a.data());
  std::string_view inner = host;  // "[::1]" as in URLs
  if (inner.size() > 2 && inner.front() == '[' && inner.back() == ']') {
    inner = inner.substr(1, inner.size() - 2);
  }
  const std::string bare(inner);
  if (::inet_pton(AF_INET6, bare.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.length_ = sizeof(sockaddr_in6);
    a.family_ = AddressFamily::ipv6;
    return a;
  }
  throw std::invalid_argument("not a numeric IP address: '" + text + "'");
}

SocketAddress SocketAddress::unix_path(std::string_view path) {
  SocketAddress a;
  auto* un = static_cast<sockaddr_un*>(a.data());
  if (path.empty()) throw std::invalid_argument("empty Unix socket path");
  if (path.size() >= sizeof un->sun_path) {
    throw std::invalid_argument("Unix socket path too long (" + std::to_string(path.size()) +
                                " bytes, at most " + std::to_string(sizeof un->sun_path - 1) + ")");
  }
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  a.length_ = static_cast<std::uint32_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                         (path.front() == '\0' ? 0 : 1));
  a.family_ = AddressFamily::unix_domain;
  return a;
}

SocketAddress SocketAddress::from_raw(const void* sockaddr, std::size_t length) {
  SocketAddress a;
  if (length > capacity()) length = capacity();
  std::memcpy(a.data(), sockaddr, length);
  a.set_size(static_cast<std::uint32_t>(length));
  return a;
}

void SocketAddress::set_size(std::uint32_t length) noexcept {
  length_ = length;
  if (length < sizeof(sa_family_t)) {
    family_ = AddressFamily::unspecified;
    return;
  }
  switch (static_cast<const sockaddr*>(data())->sa_family) {
    case AF_INET:
      family_ = AddressFamily::ipv4;
      break;
    case AF_INET6:
      family_ = AddressFamily::ipv6;
      break;
    case AF_UNIX:
      family_ = AddressFamily::unix_domain;
      break;
    default:
      family_ = AddressFamily::unspecified;
  }
}

std::string SocketAddress::host() const {
  char text[INET6_ADDRSTRLEN] = {};
  switch (family_) {
    case AddressFamily::ipv4:
      ::inet_ntop(AF_INET, &static_cast<const sockaddr_in*>(data())->sin_addr, text, sizeof text);
      return text;
    case AddressFamily::ipv6:
      ::inet_ntop(AF_INET6, &static_cast<const sockaddr_in6*>(data())->sin6_addr, text,
                  sizeof text);
      return text;
    case AddressFamily::unix_domain: {
      const auto* un = static_cast<const sockaddr_un*>(data());
      const std::size_t offset = offsetof(sockaddr_un, sun_path);
      if (length_ <= offset) return {};  // an unnamed socket
      std::size_t n = length_ - offset;
      if (un->sun_path[0] != '\0') n = ::strnlen(un->sun_path, n);
      return std::string(un->sun_path, n);
    }
    case AddressFamily::unspecified:
      break;
  }
  return {};
}

std::uint16_t SocketAddress::port() const noexcept {
  switch (family_) {
    case AddressFamily::ipv4:
      return ntohs(static_cast<const sockaddr_in*>(data())->sin_port);
    case AddressFamily::ipv6:
      return ntohs(static_cast<const sockaddr_in6*>(data())->sin6_port);
    default:
      return 0;
  }
}

std::string SocketAddress::to_string() const {
  switch (family_) {
    case AddressFamily::ipv4:
      return host() + ":" + std::to_string(port());
    case AddressFamily::ipv6: {
      std::string text = "[";  // appended, not prepended: GCC 12 -O3 misreads the latter
      text += host();
      text += "]:";
      text += std::to_string(port());
      return text;
    }
    case AddressFamily::unix_domain: {
      std::string path = host();
      if (!path.empty() && path.front() == '\0') path.front() = '@';
      return path;
    }
    case AddressFamily::unspecified:
      break;
  }
  return "<no address>";
}

bool SocketAddress::operator==(const SocketAddress& other) const noexcept {
  return length_ == other.length_ && std::memcmp(data(), other.data(), length_) == 0;
}

}  // namespace aio
