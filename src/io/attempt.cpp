// The system calls behind the operations (see attempt.hpp).
#include "io/attempt.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace aio::detail {

std::int64_t attempt(IoOp& op, bool first) noexcept {
  for (;;) {
    ssize_t r = 0;
    switch (op.kind) {
      case IoKind::readable:
      case IoKind::writable:
      case IoKind::receive:         // a backend that chooses no buffers reports readiness
        if (first) return -EAGAIN;  // readiness is only known from the backend
        return 0;
      case IoKind::recv:
        r = op.is_socket ? ::recv(op.fd, op.buf, op.len, 0) : ::read(op.fd, op.buf, op.len);
        break;
      case IoKind::send:
        r = op.is_socket ? ::send(op.fd, op.buf, op.len, MSG_NOSIGNAL)
                         : ::write(op.fd, op.buf, op.len);
        break;
      case IoKind::accept: {
        socklen_t len = op.addr_len;
        r = ::accept4(op.fd, static_cast<sockaddr*>(op.addr), op.addr ? &len : nullptr,
                      SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (r >= 0) op.addr_len = len;
        break;
      }
      case IoKind::connect: {
        if (first) {
          r = ::connect(op.fd, static_cast<const sockaddr*>(op.addr), op.addr_len);
          if (r < 0 && errno == EINPROGRESS) return -EAGAIN;
          break;
        }
        int error = 0;
        socklen_t len = sizeof error;
        if (::getsockopt(op.fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) return -errno;
        return error ? -error : 0;
      }
      case IoKind::recvfrom: {
        socklen_t len = op.addr_len;
        r = ::recvfrom(op.fd, op.buf, op.len, 0, static_cast<sockaddr*>(op.addr), &len);
        if (r >= 0) op.addr_len = len;
        break;
      }
      case IoKind::sendto:
        r = ::sendto(op.fd, op.buf, op.len, MSG_NOSIGNAL,
                     op.addr_len ? static_cast<const sockaddr*>(op.addr) : nullptr, op.addr_len);
        break;
    }
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

}  // namespace aio::detail
