#include "net/socket_util.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <mutex>

#include "aio/detail/task_core.hpp"
#include "net/os_error.hpp"

namespace aio::detail {

void forget_descriptor(int fd) noexcept {
  if (EventLoop* loop = this_thread.running_loop) LoopAccess::backend(*loop).forget(fd);
}

void ignore_sigpipe() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      ::signal(SIGPIPE, SIG_IGN);
    }
  });
}

int native_family(AddressFamily family) noexcept {
  switch (family) {
    case AddressFamily::ipv4:
      return AF_INET;
    case AddressFamily::ipv6:
      return AF_INET6;
    case AddressFamily::unix_domain:
      return AF_UNIX;
    case AddressFamily::unspecified:
      break;
  }
  return AF_UNSPEC;
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw os_error(errno, "fcntl(O_NONBLOCK)");
  }
}

}  // namespace aio::detail
