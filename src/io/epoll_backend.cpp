// The epoll backend.
//
// Some facts about epoll this file relies on:
// - epoll_wait's timeout is in milliseconds. A timer due in 0.3 ms must not turn into a 0 ms
//   wait (the loop would spin until the deadline), so timeouts are rounded *up*, as asyncio
//   does; a timer fires at most 1 ms late, never early.
// - An eventfd is the cheapest cross-thread wake-up: a write makes it readable (level-
//   triggered, so a write that lands before epoll_wait is not lost) and one read resets it.
//   call_soon_threadsafe() and stop() from another thread write to it.
// - Every descriptor is created close-on-exec, so child processes inherit none of them.
#include "io/epoll_backend.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <system_error>

namespace aio::detail {

namespace {
[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}
}  // namespace

EpollBackend::EpollBackend() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    const int err = errno;
    ::close(epoll_fd_);
    throw std::system_error(err, std::generic_category(), "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
    const int err = errno;
    ::close(wake_fd_);
    ::close(epoll_fd_);
    throw std::system_error(err, std::generic_category(), "epoll_ctl(eventfd)");
  }
}

EpollBackend::~EpollBackend() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void EpollBackend::poll(double timeout) {
  int ms = -1;
  if (timeout >= 0) {
    const double rounded = std::ceil(timeout * 1e3);
    ms = rounded > 2147483647.0 ? 2147483647 : static_cast<int>(rounded);
  }
  epoll_event events[64];
  int n = ::epoll_wait(epoll_fd_, events, 64, ms);
  if (n < 0) {
    if (errno == EINTR) return;  // a signal: the loop comes round again
    throw_errno("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    if (events[i].data.fd == wake_fd_) {
      std::uint64_t count;
      while (::read(wake_fd_, &count, sizeof count) > 0) {
      }
    }
  }
}

void EpollBackend::wake() noexcept {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is saturated: the fd is readable already, which is all we need.
  [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace aio::detail
