// The io_uring backend.
//
// What it does today: every wait is an IORING_OP_POLL_ADD submitted to the ring, all of an
// iteration's submissions go to the kernel in the same io_uring_enter that waits for
// completions (one system call per loop turn, however many operations were re-armed), and the
// operation's own call (recv, send, accept...) is made when its poll completes, exactly as the
// epoll backend does, so both backends behave the same to every layer above. Operations are
// tried first without waiting (try_first), as with epoll.
//
// Cancellation is synchronous for the caller: a submission's user_data is a Slot the backend
// owns; cancel() detaches the operation from its slot and asks the kernel to remove the poll,
// and the completion that follows (cancelled, or ready after all) only frees the slot. Since a
// poll touches no caller memory, nothing is written after cancel() returns.
//
// What comes next (docs/performance.md): recv/send/accept as io_uring operations proper,
// multishot accept and receive with provided buffers.
#include "io/uring_backend.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <system_error>

#include "io/attempt.hpp"

namespace aio::detail {

namespace {

constexpr std::uint64_t wake_tag = 1;    // the eventfd's poll
constexpr std::uint64_t ignore_tag = 2;  // poll removals: their own completions mean nothing

}  // namespace

UringBackend::UringBackend() : ring_(std::make_unique<io_uring>()) {
  const int rc = ::io_uring_queue_init(1024, ring_.get(), 0);
  if (rc < 0) throw std::system_error(-rc, std::generic_category(), "io_uring_queue_init");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    const int err = errno;
    ::io_uring_queue_exit(ring_.get());
    throw std::system_error(err, std::generic_category(), "eventfd");
  }
  arm_wake();
}

UringBackend::~UringBackend() {
  ::io_uring_queue_exit(ring_.get());  // the kernel drops whatever is still pending
  ::close(wake_fd_);
}

namespace {

io_uring_sqe* get_sqe(io_uring* ring) {
  io_uring_sqe* sqe = ::io_uring_get_sqe(ring);
  if (!sqe) {  // the submission queue is full: hand it to the kernel and take a fresh entry
    ::io_uring_submit(ring);
    sqe = ::io_uring_get_sqe(ring);
  }
  if (!sqe) throw std::system_error(EBUSY, std::generic_category(), "io_uring_get_sqe");
  return sqe;
}

}  // namespace

void UringBackend::arm_wake() {
  io_uring_sqe* sqe = get_sqe(ring_.get());
  ::io_uring_prep_poll_add(sqe, wake_fd_, POLLIN);
  ::io_uring_sqe_set_data64(sqe, wake_tag);
}

UringBackend::Slot* UringBackend::new_slot(IoOp* op) {
  if (!free_) {
    constexpr std::size_t block = 256;
    auto slots = std::make_unique<Slot[]>(block);
    for (std::size_t i = 0; i < block; ++i)
      slots[i].next_free = i + 1 < block ? &slots[i + 1] : nullptr;
    free_ = &slots[0];
    blocks_.push_back(std::move(slots));
  }
  Slot* s = free_;
  free_ = s->next_free;
  s->op = op;
  return s;
}

void UringBackend::free_slot(Slot* slot) noexcept {
  slot->op = nullptr;
  slot->next_free = free_;
  free_ = slot;
}

void UringBackend::submit_poll(Slot* slot, int fd, unsigned events) {
  io_uring_sqe* sqe = get_sqe(ring_.get());
  ::io_uring_prep_poll_add(sqe, fd, events);
  ::io_uring_sqe_set_data(sqe, slot);
}

std::int64_t UringBackend::try_now(IoOp& op) noexcept {
  return op.fd < 0 ? -EBADF : attempt(op, true);
}

bool UringBackend::start(IoOp& op) {
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
  Slot* slot = new_slot(&op);
  try {
    submit_poll(slot, op.fd, is_write(op.kind) ? POLLOUT : POLLIN);
  } catch (...) {
    free_slot(slot);
    throw;
  }
  op.backend_slot = slot;
  op.pending = true;
  ++pending_;
  return false;
}

bool UringBackend::cancel(IoOp& op) noexcept {
  if (!op.pending) return false;
  auto* slot = static_cast<Slot*>(op.backend_slot);
  slot->op = nullptr;  // its completion, whatever it says, now only frees the slot
  op.backend_slot = nullptr;
  op.pending = false;
  --pending_;
  if (io_uring_sqe* sqe = ::io_uring_get_sqe(ring_.get())) {
    ::io_uring_prep_poll_remove(sqe, reinterpret_cast<std::uint64_t>(slot));
    ::io_uring_sqe_set_data64(sqe, ignore_tag);
  }  // no room: the poll stays until its descriptor is ready or closed; harmless either way
  return true;
}

void UringBackend::forget(int fd) noexcept {
  (void)fd;  // polls end by themselves when their descriptor closes
}

void UringBackend::poll(double timeout, ReadyQueue& ready) {
  io_uring* ring = ring_.get();
  int rc = 0;
  io_uring_cqe* cqe = nullptr;
  if (timeout < 0) {
    rc = ::io_uring_submit_and_wait(ring, 1);
  } else if (timeout == 0) {
    rc = ::io_uring_submit(ring);
  } else {
    __kernel_timespec ts{};
    const double whole = std::floor(timeout);
    ts.tv_sec = static_cast<long long>(whole);
    ts.tv_nsec = static_cast<long long>((timeout - whole) * 1e9);
    rc = ::io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, nullptr);
  }
  if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
    throw std::system_error(-rc, std::generic_category(), "io_uring_enter");
  }
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(ring, head, cqe) {
    ++seen;
    const std::uint64_t tag = ::io_uring_cqe_get_data64(cqe);
    if (tag == wake_tag) {
      std::uint64_t count;
      while (::read(wake_fd_, &count, sizeof count) > 0) {
      }
      arm_wake();
      continue;
    }
    if (tag == ignore_tag) continue;
    auto* slot = reinterpret_cast<Slot*>(tag);
    IoOp* op = slot->op;
    if (!op) {  // cancelled: the slot was only waiting for this
      free_slot(slot);
      continue;
    }
    // Ready (or an error on the descriptor): make the call the operation stands for.
    std::int64_t r = cqe->res < 0 ? cqe->res : attempt(*op, false);
    if (r == -EAGAIN) {  // spurious: wait again with the same slot
      submit_poll(slot, op->fd, is_write(op->kind) ? POLLOUT : POLLIN);
      continue;
    }
    free_slot(slot);
    op->backend_slot = nullptr;
    op->pending = false;
    op->result = r;
    --pending_;
    ready.push(op);
  }
  ::io_uring_cq_advance(ring, seen);
}

void UringBackend::wake() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace aio::detail
