#include "posix/descriptors.hpp"

#include <fcntl.h>

#include <cerrno>
#include <csignal>
#include <mutex>

#include "posix/os_error.hpp"

namespace aio::detail {

void ignore_sigpipe() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      ::signal(SIGPIPE, SIG_IGN);
    }
  });
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw os_error(errno, "fcntl(O_NONBLOCK)");
  }
}

}  // namespace aio::detail
