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
//
// Operations try their system call first and wait only on EAGAIN: a send that the kernel
// takes at once never touches epoll. Interest is level-triggered and dropped lazily: a
// direction stays registered after its last operation completes, because the next one usually
// follows within the same iteration (a transport re-arms its read), and is removed only when
// an event arrives for it with nobody waiting. In steady state that is no epoll_ctl at all.
#include "io/epoll_backend.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <system_error>

#include "io/attempt.hpp"

namespace aio::detail {

namespace {

constexpr std::uint64_t wake_tag = ~std::uint64_t{0};

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::system_category(), what);
}

}  // namespace

EpollBackend::EpollBackend() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    const int err = errno;
    ::close(epoll_fd_);
    throw std::system_error(err, std::system_category(), "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = wake_tag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
    const int err = errno;
    ::close(wake_fd_);
    ::close(epoll_fd_);
    throw std::system_error(err, std::system_category(), "epoll_ctl(eventfd)");
  }
}

EpollBackend::~EpollBackend() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

EpollBackend::FdEntry& EpollBackend::entry(int fd) {
  if (static_cast<std::size_t>(fd) >= fds_.size()) {
    fds_.resize(std::max<std::size_t>(static_cast<std::size_t>(fd) + 1, fds_.size() * 2));
  }
  return fds_[static_cast<std::size_t>(fd)];
}

std::int64_t EpollBackend::try_op(IoOp& op) noexcept {
  return op.fd < 0 ? -EBADF : attempt(op, true);
}

bool EpollBackend::start_op(IoOp& op) {
  if (op.fd < 0) {
    op.result = -EBADF;
    return true;
  }
  if (op.try_first) {
    const std::int64_t r = attempt(op, true);
    if (r != -EAGAIN) {
      op.result = r;
      return true;
    }
  }
  FdEntry& e = entry(op.fd);
  (is_write(op.kind) ? e.writers : e.readers).push(&op);
  op.pending = true;
  ++pending_;
  try {
    update_interest(op.fd, e, false);
  } catch (...) {
    (is_write(op.kind) ? e.writers : e.readers).remove(&op);
    op.pending = false;
    --pending_;
    throw;
  }
  return false;
}

bool EpollBackend::cancel(IoOp& op) noexcept {
  if (!op.pending) return false;
  FdEntry& e = fds_[static_cast<std::size_t>(op.fd)];
  (is_write(op.kind) ? e.writers : e.readers).remove(&op);
  op.pending = false;
  --pending_;
  return true;
}

void EpollBackend::forget(int fd) noexcept {
  if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
  FdEntry& e = fds_[static_cast<std::size_t>(fd)];
  if (e.added) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  for (OpQueue* q : {&e.readers, &e.writers}) {
    while (IoOp* op = q->head) {  // a caller's mistake; do not leave dangling pointers
      q->remove(op);
      op->pending = false;
      --pending_;
    }
  }
  e = FdEntry{};
}

// Registers the directions that have waiters. With `may_drop` (after an event) it also drops
// the directions nobody waits on any more, removing the descriptor when none is left.
void EpollBackend::update_interest(int fd, FdEntry& e, bool may_drop) {
  std::uint32_t wanted = (e.readers.head ? EPOLLIN : 0u) | (e.writers.head ? EPOLLOUT : 0u);
  if (!may_drop) wanted |= e.events;
  if (wanted == e.events && (e.added || wanted == 0)) return;
  if (wanted == 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    e.added = false;
    e.events = 0;
    return;
  }
  epoll_event ev{};
  ev.events = wanted;
  ev.data.u64 = static_cast<std::uint64_t>(fd);
  if (::epoll_ctl(epoll_fd_, e.added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) {
    // The entry may be stale: a descriptor closed without forget() (epoll dropped it) or
    // registered under a number reused since. Try the other way once.
    const bool retry = (e.added && errno == ENOENT) || (!e.added && errno == EEXIST);
    if (!retry || ::epoll_ctl(epoll_fd_, e.added ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0) {
      throw std::system_error(errno, std::system_category(), "epoll_ctl");
    }
  }
  e.added = true;
  e.events = wanted;
}

void EpollBackend::complete_ready(OpQueue& queue, ReadyQueue& ready) {
  while (IoOp* op = queue.head) {
    const std::int64_t r = attempt(*op, false);
    if (r == -EAGAIN) return;
    queue.pop();
    op->pending = false;
    op->result = r;
    --pending_;
    deliver(*op, ready);
  }
}

void EpollBackend::poll(double timeout, ReadyQueue& ready) {
  int ms = -1;
  if (timeout >= 0) {
    const double rounded = std::ceil(timeout * 1e3);
    ms = rounded > 2147483647.0 ? 2147483647 : static_cast<int>(rounded);
  }
  epoll_event events[128];
  const int n = ::epoll_wait(epoll_fd_, events, 128, ms);
  if (n < 0) {
    if (errno == EINTR) return;  // a signal: the loop comes round again
    throw_errno("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    const std::uint64_t tag = events[i].data.u64;
    if (tag == wake_tag) {
      std::uint64_t count;
      while (::read(wake_fd_, &count, sizeof count) > 0) {
      }
      continue;
    }
    const int fd = static_cast<int>(tag);
    FdEntry& e = fds_[static_cast<std::size_t>(fd)];
    const std::uint32_t got = events[i].events;
    // An event nobody waited for: stop listening for it (level-triggered, it would repeat).
    // Decided before completing anything: a queue emptied just now is re-armed at once.
    const bool unwanted = ((got & EPOLLIN) && !e.readers.head) ||
                          ((got & EPOLLOUT) && !e.writers.head) ||
                          ((got & (EPOLLHUP | EPOLLERR)) && !e.readers.head && !e.writers.head);
    if (got & (EPOLLIN | EPOLLHUP | EPOLLERR)) complete_ready(e.readers, ready);
    if (got & (EPOLLOUT | EPOLLHUP | EPOLLERR)) complete_ready(e.writers, ready);
    if (unwanted) {
      try {
        update_interest(fd, e, true);
      } catch (...) {
        // MOD/DEL of a registered descriptor does not fail short of a closed one.
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
