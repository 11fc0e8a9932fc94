// The loop's socket methods (asyncio's loop.sock_recv, sock_sendall, sock_connect, ...): each
// is one IoAwait, tried at once and waited for only on EAGAIN.
#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "aio/loop.hpp"
#include "net/io_await.hpp"
#include "net/socket_util.hpp"
#include "posix/os_error.hpp"

namespace aio {

namespace {

void check_socket(const EventLoop& loop, const Socket& sock, const char* method) {
  if (!sock) throw std::invalid_argument(std::string(method) + "(): the socket is closed");
  // Debug mode refuses a blocking socket (its flags changed behind aio::Socket's back): a call
  // on it would stall the loop. asyncio checks the same, only in debug mode.
  if (loop.get_debug()) {
    const int flags = ::fcntl(sock.fileno(), F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK)) {
      throw std::invalid_argument("the socket must be non-blocking");
    }
  }
}

}  // namespace

Coro<std::string> EventLoop::sock_recv(Socket& sock, std::int64_t n) {
  check_socket(*this, sock, "sock_recv");
  if (n < 0) throw std::invalid_argument("sock_recv(): negative size");
  std::string data(static_cast<std::size_t>(n), '\0');
  detail::IoAwait op(*this);
  op.fd = sock.fileno();
  op.kind = detail::IoKind::recv;
  op.buf = data.data();
  op.len = data.size();
  const std::int64_t r = co_await op;
  if (r < 0) throw detail::os_error(static_cast<int>(-r), "sock_recv");
  data.resize(static_cast<std::size_t>(r));
  co_return data;
}

Coro<std::size_t> EventLoop::sock_recv_into(Socket& sock, std::span<char> buffer) {
  check_socket(*this, sock, "sock_recv_into");
  detail::IoAwait op(*this);
  op.fd = sock.fileno();
  op.kind = detail::IoKind::recv;
  op.buf = buffer.data();
  op.len = buffer.size();
  const std::int64_t r = co_await op;
  if (r < 0) throw detail::os_error(static_cast<int>(-r), "sock_recv_into");
  co_return static_cast<std::size_t>(r);
}

Coro<void> EventLoop::sock_sendall(Socket& sock, std::string_view data) {
  check_socket(*this, sock, "sock_sendall");
  detail::ignore_sigpipe();
  return [](EventLoop& loop, Socket& s, std::string bytes) -> Coro<void> {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      detail::IoAwait op(loop);
      op.fd = s.fileno();
      op.kind = detail::IoKind::send;
      op.buf = bytes.data() + sent;
      op.len = bytes.size() - sent;
      const std::int64_t r = co_await op;
      if (r < 0) throw detail::os_error(static_cast<int>(-r), "sock_sendall");
      sent += static_cast<std::size_t>(r);
    }
  }(*this, sock, std::string(data));
}

Coro<void> EventLoop::sock_connect(Socket& sock, SocketAddress address) {
  check_socket(*this, sock, "sock_connect");
  detail::IoAwait op(*this);
  op.fd = sock.fileno();
  op.kind = detail::IoKind::connect;
  op.addr = address.data();
  op.addr_len = address.size();
  const std::int64_t r = co_await op;
  if (r < 0) throw detail::os_error(static_cast<int>(-r), "connect to " + address.to_string());
}

Coro<std::pair<Socket, SocketAddress>> EventLoop::sock_accept(Socket& sock) {
  check_socket(*this, sock, "sock_accept");
  SocketAddress peer;
  detail::IoAwait op(*this);
  op.fd = sock.fileno();
  op.kind = detail::IoKind::accept;
  op.addr = peer.data();
  op.addr_len = SocketAddress::capacity();
  const std::int64_t r = co_await op;
  if (r < 0) throw detail::os_error(static_cast<int>(-r), "accept");
  peer.set_size(op.addr_len);
  co_return std::pair<Socket, SocketAddress>(Socket::adopt(static_cast<int>(r)), peer);
}

Coro<std::pair<std::string, SocketAddress>> EventLoop::sock_recvfrom(Socket& sock, std::int64_t n) {
  check_socket(*this, sock, "sock_recvfrom");
  if (n < 0) throw std::invalid_argument("sock_recvfrom(): negative size");
  std::string data(static_cast<std::size_t>(n), '\0');
  SocketAddress from;
  detail::IoAwait op(*this);
  op.fd = sock.fileno();
  op.kind = detail::IoKind::recvfrom;
  op.buf = data.data();
  op.len = data.size();
  op.addr = from.data();
  op.addr_len = SocketAddress::capacity();
  const std::int64_t r = co_await op;
  if (r < 0) throw detail::os_error(static_cast<int>(-r), "sock_recvfrom");
  data.resize(static_cast<std::size_t>(r));
  from.set_size(op.addr_len);
  co_return std::pair<std::string, SocketAddress>(std::move(data), from);
}

Coro<std::size_t> EventLoop::sock_sendto(Socket& sock, std::string_view data, SocketAddress to) {
  check_socket(*this, sock, "sock_sendto");
  detail::ignore_sigpipe();
  return
      [](EventLoop& loop, Socket& s, std::string bytes, SocketAddress dest) -> Coro<std::size_t> {
        detail::IoAwait op(loop);
        op.fd = s.fileno();
        op.kind = detail::IoKind::sendto;
        op.buf = bytes.data();
        op.len = bytes.size();
        op.addr = dest.data();
        op.addr_len = dest.size();
        const std::int64_t r = co_await op;
        if (r < 0) throw detail::os_error(static_cast<int>(-r), "sendto " + dest.to_string());
        co_return static_cast<std::size_t>(r);
      }(*this, sock, std::string(data), to);
}

}  // namespace aio
