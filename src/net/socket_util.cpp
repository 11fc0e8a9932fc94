#include "net/socket_util.hpp"

#include <sys/socket.h>

#include "aio/detail/thread_state.hpp"
#include "core/loop_internals.hpp"

namespace aio::detail {

void forget_descriptor(int fd) noexcept {
  if (EventLoop* loop = this_thread.running_loop) LoopInternals::backend(*loop).forget(fd);
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

}  // namespace aio::detail
