// Socket: one non-blocking, close-on-exec descriptor; the thin layer over socket(2) & co.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "aio/socket.hpp"
#include "net/socket_util.hpp"
#include "posix/os_error.hpp"

namespace aio {

namespace {

void set_option(int fd, int level, int name, bool on, const char* what) {
  const int value = on ? 1 : 0;
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0) throw detail::os_error(errno, what);
}

}  // namespace

Socket::Socket(AddressFamily family, SocketType type) {
  const int kind = type == SocketType::stream ? SOCK_STREAM : SOCK_DGRAM;
  if (family == AddressFamily::unspecified) {
    throw std::invalid_argument("Socket: an address family is required");
  }
  fd_ = ::socket(detail::native_family(family), kind | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw detail::os_error(errno, "socket");
}

Socket Socket::adopt(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw detail::os_error(errno, "Socket::adopt");
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return Socket(fd);
}

void Socket::close() noexcept {
  if (fd_ < 0) return;
  detail::forget_descriptor(fd_);
  ::close(fd_);
  fd_ = -1;
}

void Socket::bind(const SocketAddress& address) {
  if (::bind(fd_, static_cast<const sockaddr*>(address.data()), address.size()) < 0) {
    throw detail::os_error(errno, "bind to " + address.to_string());
  }
}

void Socket::listen(int backlog) {
  if (::listen(fd_, backlog) < 0) throw detail::os_error(errno, "listen");
}

SocketAddress Socket::sockname() const {
  SocketAddress a;
  socklen_t len = SocketAddress::capacity();
  if (::getsockname(fd_, static_cast<sockaddr*>(a.data()), &len) < 0) {
    throw detail::os_error(errno, "getsockname");
  }
  a.set_size(len);
  return a;
}

SocketAddress Socket::peername() const {
  SocketAddress a;
  socklen_t len = SocketAddress::capacity();
  if (::getpeername(fd_, static_cast<sockaddr*>(a.data()), &len) < 0) {
    throw detail::os_error(errno, "getpeername");
  }
  a.set_size(len);
  return a;
}

void Socket::set_reuse_address(bool on) {
  set_option(fd_, SOL_SOCKET, SO_REUSEADDR, on, "setsockopt(SO_REUSEADDR)");
}
void Socket::set_reuse_port(bool on) {
  set_option(fd_, SOL_SOCKET, SO_REUSEPORT, on, "setsockopt(SO_REUSEPORT)");
}
void Socket::set_nodelay(bool on) {
  set_option(fd_, IPPROTO_TCP, TCP_NODELAY, on, "setsockopt(TCP_NODELAY)");
}

void Socket::shutdown_write() {
  if (::shutdown(fd_, SHUT_WR) < 0) throw detail::os_error(errno, "shutdown");
}

AddressFamily Socket::family() const {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(fd_, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
    throw detail::os_error(errno, "getsockopt(SO_DOMAIN)");
  }
  switch (domain) {
    case AF_INET:
      return AddressFamily::ipv4;
    case AF_INET6:
      return AddressFamily::ipv6;
    case AF_UNIX:
      return AddressFamily::unix_domain;
    default:
      return AddressFamily::unspecified;
  }
}

}  // namespace aio
