// The io_uring backend.
//
// All of an iteration's submissions go to the kernel in the same io_uring_enter that waits for
// completions: one system call per loop turn, however many operations were started.
//
// - A stream's reads are one multishot receive (IORING_OP_RECV with IORING_RECV_MULTISHOT)
//   into provided buffers: the kernel picks a buffer from the backend's ring for each arrival
//   and posts a completion, with no system call of ours and no re-arming. The buffer is the
//   reader's until its callback has run: it goes back to the ring at the next poll(), or at
//   the one after for a completion that start() hands over from what was held (that
//   operation is scheduled, and runs only after the next poll).
// - A listening socket's accepts are one multishot accept.
// - A multishot request keeps producing completions whether or not its operation is waiting;
//   those that arrive while it is not (the callback still running, or reading paused) are
//   held in the slot and handed over by the next start(), which then completes at once. Too
//   many held (reading paused) and the request is cancelled, so the kernel's buffer and TCP's
//   flow control take over again; the next start() submits a fresh one.
// - Every other operation waits with IORING_OP_POLL_ADD and makes its call when the poll
//   completes, as the epoll backend does; they are tried first without waiting (try_first).
// - With RunOptions::coalesce, a blocking wait asks for a batch of completions with a minimum
//   wait (wait_coalescing), so that a busy loop wakes once per batch rather than per arrival.
//
// Cancellation is synchronous for the caller: a submission's user_data is a Slot the backend
// owns; cancel() detaches the operation from its slot and asks the kernel to stop the request,
// and the completions that follow only give back what they hold (a buffer, an accepted
// descriptor) and finally free the slot. No caller memory is ever handed to the kernel, so
// nothing is written after cancel() returns.
//
// A request holds its file in the kernel until it ends, so a descriptor closed while one is
// pending stays open underneath. That matters for a listening socket: closed after its accept
// was cancelled, it would go on completing handshakes (the clients then reset) until the next
// poll ended the request, where a closed listener must refuse them at once. So the cancellation
// of an accept is made to take effect before cancel() returns (settle()).
#include "io/uring_backend.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <limits>
#include <system_error>

#include "aio/errors.hpp"
#include "io/attempt.hpp"

namespace aio::detail {

namespace {

constexpr std::uint64_t wake_tag = 1;    // the eventfd's poll
constexpr std::uint64_t ignore_tag = 2;  // cancellations: their own completions mean nothing

// Provided buffers: 256 of 16 KiB (4 MiB of address space, touched only as used). A receive
// takes one per completion; they come back at the start of the next poll().
constexpr unsigned buffer_count = 256;
constexpr std::size_t buffer_size = 16 * 1024;
constexpr int buffer_group = 0;
// Completions a multishot request may pile up for an operation that is not taking them
// (reading paused) before the backend asks the kernel to stop it.
constexpr std::size_t max_held = 8;

[[noreturn]] void throw_enter_error(int err) {
  if (err == EEXIST) {
    throw RuntimeError(
        "an io_uring event loop runs in the thread that first ran it (use "
        "RunOptions::backend = Backend::epoll to run one loop from several threads in turn)");
  }
  throw std::system_error(err, std::system_category(), "io_uring_enter");
}

// IORING_FEAT_MIN_TIMEOUT (Linux 6.12): io_uring_enter takes a minimum wait, in microseconds,
// in io_uring_getevents_arg's field that liburing 2.3 still calls `pad`.
constexpr unsigned feat_min_timeout = 1U << 15;

__kernel_timespec relative_timespec(double seconds) {
  __kernel_timespec ts{};
  const double whole = std::floor(seconds);
  ts.tv_sec = static_cast<long long>(whole);
  ts.tv_nsec = static_cast<long long>((seconds - whole) * 1e9);
  return ts;
}

bool is_multishot(const IoOp& op, bool have_buffers) {
  return (op.kind == IoKind::receive && have_buffers) ||
         (op.kind == IoKind::accept && op.addr == nullptr);
}

}  // namespace

UringBackend::UringBackend() : ring_(std::make_unique<io_uring>()) {
  // Completions are processed only when the loop enters the kernel to wait (DEFER_TASKRUN):
  // no interruptions while callbacks run, and one batch per iteration (without it, the same
  // echo server costs 1.8 times the CPU). That needs a single submitting thread: the ring
  // starts disabled and is bound to the thread that first uses it, the loop's (a loop may be
  // made in one thread and run in another). Kernels before 6.1: a plain ring.
  int rc = ::io_uring_queue_init(
      1024, ring_.get(),
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED);
  if (rc == -EINVAL) {
    rc = ::io_uring_queue_init(1024, ring_.get(), 0);
    enabled_ = true;
  }
  if (rc < 0) throw std::system_error(-rc, std::system_category(), "io_uring_queue_init");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    const int err = errno;
    ::io_uring_queue_exit(ring_.get());
    throw std::system_error(err, std::system_category(), "eventfd");
  }
  arm_wake();
  setup_buffers();
}

UringBackend::~UringBackend() {
  ::io_uring_queue_exit(ring_.get());  // the kernel drops whatever is still pending
  ::close(wake_fd_);
  if (buffer_ring_) ::munmap(buffer_ring_, buffer_count * sizeof(io_uring_buf));
  if (buffers_) ::munmap(buffers_, buffer_count * buffer_size);
}

// Registers the provided-buffer ring. Without it (a kernel before 5.19, or no memory),
// receives fall back to readiness waits and the caller's own reads.
void UringBackend::setup_buffers() {
  void* ring_mem = ::mmap(nullptr, buffer_count * sizeof(io_uring_buf), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ring_mem == MAP_FAILED) return;
  void* mem = ::mmap(nullptr, buffer_count * buffer_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    ::munmap(ring_mem, buffer_count * sizeof(io_uring_buf));
    return;
  }
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(ring_mem);
  reg.ring_entries = buffer_count;
  reg.bgid = buffer_group;
  if (::io_uring_register_buf_ring(ring_.get(), &reg, 0) < 0) {
    ::munmap(mem, buffer_count * buffer_size);
    ::munmap(ring_mem, buffer_count * sizeof(io_uring_buf));
    return;
  }
  buffer_ring_ = static_cast<io_uring_buf_ring*>(ring_mem);
  buffers_ = static_cast<char*>(mem);
  ::io_uring_buf_ring_init(buffer_ring_);
  const int mask = ::io_uring_buf_ring_mask(buffer_count);
  for (unsigned i = 0; i < buffer_count; ++i) {
    ::io_uring_buf_ring_add(buffer_ring_, buffers_ + i * buffer_size, buffer_size,
                            static_cast<unsigned short>(i), mask, static_cast<int>(i));
  }
  ::io_uring_buf_ring_advance(buffer_ring_, buffer_count);
  handed_out_.reserve(buffer_count);
  handed_early_.reserve(buffer_count);
}

// Binds the ring to the calling thread (the loop's) on first use.
void UringBackend::enable() {
  if (enabled_) return;
  // liburing 2.3 declares io_uring_enable_rings() but does not export it: the call itself.
  if (::syscall(__NR_io_uring_register, ring_->ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) <
      0) {
    throw std::system_error(errno, std::system_category(), "io_uring_register(ENABLE_RINGS)");
  }
  enabled_ = true;
}

io_uring_sqe* UringBackend::get_sqe() {
  io_uring_sqe* sqe = ::io_uring_get_sqe(ring_.get());
  if (!sqe) {  // the submission queue is full: hand it to the kernel and take a fresh entry
    enable();
    const int rc = ::io_uring_submit(ring_.get());
    if (rc < 0 && rc != -EBUSY && rc != -EAGAIN) throw_enter_error(-rc);
    sqe = ::io_uring_get_sqe(ring_.get());
  }
  if (!sqe) throw std::system_error(EBUSY, std::system_category(), "io_uring_get_sqe");
  return sqe;
}

void UringBackend::recycle_buffers() noexcept {
  if (!handed_out_.empty()) {
    const int mask = ::io_uring_buf_ring_mask(buffer_count);
    int offset = 0;
    for (std::uint16_t bid : handed_out_) {
      ::io_uring_buf_ring_add(buffer_ring_, buffers_ + bid * buffer_size, buffer_size, bid, mask,
                              offset++);
    }
    ::io_uring_buf_ring_advance(buffer_ring_, offset);
    handed_out_.clear();
  }
  handed_out_.swap(handed_early_);  // their operations run in the coming iteration
}

void UringBackend::arm_wake() {
  io_uring_sqe* sqe = get_sqe();
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
  s->kind = op ? op->kind : IoKind::readable;
  return s;
}

void UringBackend::free_slot(Slot* slot) noexcept {
  slot->op = nullptr;
  slot->fd = -1;
  slot->live = false;
  slot->cancel_sent = false;
  slot->held.clear();
  slot->held_next = 0;
  slot->next_free = free_;
  free_ = slot;
}

void UringBackend::submit_poll(Slot* slot) {
  io_uring_sqe* sqe = get_sqe();
  ::io_uring_prep_poll_add(sqe, slot->fd, slot->write ? POLLOUT : POLLIN);
  ::io_uring_sqe_set_data(sqe, slot);
  slot->multishot = false;
  slot->live = true;
}

void UringBackend::submit_multishot(Slot* slot, const IoOp& op) {
  io_uring_sqe* sqe = get_sqe();
  if (op.kind == IoKind::receive) {
    ::io_uring_prep_recv_multishot(sqe, op.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_group;
  } else {
    ::io_uring_prep_multishot_accept(sqe, op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  }
  ::io_uring_sqe_set_data(sqe, slot);
  slot->multishot = true;
  slot->live = true;
}

void UringBackend::submit_cancel(Slot* slot) noexcept {
  if (slot->cancel_sent) return;
  try {
    io_uring_sqe* sqe = get_sqe();
    ::io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(slot), 0);
    ::io_uring_sqe_set_data64(sqe, ignore_tag);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;  // the cancelled request's own completion is enough
    slot->cancel_sent = true;
  } catch (...) {
    // The kernel refused even a fresh submission queue; the request ends with its descriptor.
  }
}

// A completion for an operation: what it hands over (see IoKind::receive).
void UringBackend::hand_over(IoOp& op, Held held, bool in_poll) {
  op.buf = nullptr;
  op.result = held.res;
  if (op.kind != IoKind::receive) return;
  if (held.flags & IORING_CQE_F_BUFFER) {
    const auto bid = static_cast<std::uint16_t>(held.flags >> IORING_CQE_BUFFER_SHIFT);
    op.buf = buffers_ + bid * buffer_size;
    (in_poll ? handed_out_ : handed_early_).push_back(bid);
  } else if (held.res == 0) {
    op.buf = buffers_;  // end of stream: no bytes, but an answer
  } else if (held.res == -ENOBUFS) {
    op.result = 0;  // every buffer is taken: the caller reads for itself
  }
}

// A completion nobody will take: give back what it holds.
void UringBackend::release(const Slot& slot, Held held) noexcept {
  if (!slot.multishot) return;  // a poll's result is an event mask: nothing to give back
  if (held.flags & IORING_CQE_F_BUFFER) {
    const auto bid = static_cast<std::uint16_t>(held.flags >> IORING_CQE_BUFFER_SHIFT);
    ::io_uring_buf_ring_add(buffer_ring_, buffers_ + bid * buffer_size, buffer_size, bid,
                            ::io_uring_buf_ring_mask(buffer_count), 0);
    ::io_uring_buf_ring_advance(buffer_ring_, 1);
  } else if (slot.kind == IoKind::accept && held.res >= 0) {
    ::close(held.res);  // a connection accepted for a listener that stopped
  }
}

std::int64_t UringBackend::try_op(IoOp& op) noexcept {
  return op.fd < 0 ? -EBADF : attempt(op, true);
}

bool UringBackend::start_op(IoOp& op) {
  if (op.fd < 0) {
    op.result = -EBADF;
    return true;
  }
  if (is_multishot(op, buffers_ != nullptr)) {
    auto* slot = static_cast<Slot*>(op.backend_slot);
    if (slot && slot->held_next < slot->held.size()) {  // already here: complete at once
      const Held held = slot->held[slot->held_next++];
      if (slot->held_next == slot->held.size()) {
        slot->held.clear();
        slot->held_next = 0;
      }
      hand_over(op, held, false);
      return true;
    }
    const bool fresh = slot == nullptr;
    if (fresh) {
      if (op.try_first && op.kind == IoKind::accept) {
        const std::int64_t r = attempt(op, true);
        if (r != -EAGAIN) {
          op.result = r;
          return true;
        }
      }
      slot = new_slot(&op);
    }
    if (!slot->live) {
      try {
        submit_multishot(slot, op);
      } catch (...) {
        if (fresh) free_slot(slot);
        throw;
      }
    }
    op.backend_slot = slot;
    op.pending = true;
    ++pending_;
    return false;
  }
  if (op.try_first) {
    const std::int64_t r = attempt(op, true);
    if (r != -EAGAIN) {
      op.result = r;
      return true;
    }
  }
  FdEntry& e = entry(op.fd);
  const bool write = is_write(op.kind);
  Slot*& poll = write ? e.write_poll : e.read_poll;
  if (!poll) {
    Slot* slot = new_slot(nullptr);
    slot->fd = op.fd;
    slot->write = write;
    try {
      submit_poll(slot);
    } catch (...) {
      free_slot(slot);
      throw;
    }
    poll = slot;
  }
  (write ? e.writers : e.readers).push(&op);
  op.pending = true;
  ++pending_;
  return false;
}

UringBackend::FdEntry& UringBackend::entry(int fd) {
  if (static_cast<std::size_t>(fd) >= fds_.size()) {
    fds_.resize(std::max<std::size_t>(static_cast<std::size_t>(fd) + 1, fds_.size() * 2));
  }
  return fds_[static_cast<std::size_t>(fd)];
}

// Nobody waits on this poll any more: detach it and ask the kernel to end it, so the request
// lets go of its file (a descriptor closed next must really close).
void UringBackend::drop_poll(Slot*& poll) noexcept {
  if (!poll) return;
  poll->fd = -1;
  submit_cancel(poll);
  poll = nullptr;
}

bool UringBackend::cancel(IoOp& op) noexcept {
  auto* slot = static_cast<Slot*>(op.backend_slot);
  if (!slot) {  // a readiness wait (or nothing pending)
    if (!op.pending) return false;
    FdEntry& e = fds_[static_cast<std::size_t>(op.fd)];
    const bool write = is_write(op.kind);
    OpQueue& queue = write ? e.writers : e.readers;
    queue.remove(&op);
    op.pending = false;
    --pending_;
    if (queue.empty()) {
      drop_poll(write ? e.write_poll : e.read_poll);
      if (op.kind == IoKind::accept) settle();
    }
    return true;
  }
  const bool was_pending = op.pending;
  if (was_pending) {
    op.pending = false;
    --pending_;
  }
  op.backend_slot = nullptr;
  slot->op = nullptr;  // its completions, whatever they say, now only give back what they hold
  for (std::size_t i = slot->held_next; i < slot->held.size(); ++i) {
    release(*slot, slot->held[i]);
  }
  slot->held.clear();
  slot->held_next = 0;
  if (slot->live) {
    submit_cancel(slot);
    if (slot->kind == IoKind::accept) settle();
  } else {
    free_slot(slot);
  }
  return was_pending;
}

// Submits what is queued (cancellations included) and lets the kernel finish the requests they
// end, so that those let go of their files now; the completions wait for the next poll().
void UringBackend::settle() noexcept {
  if (!enabled_) return;  // nothing has reached the kernel yet: no request holds a file
  ::io_uring_submit_and_get_events(ring_.get());
}

void UringBackend::forget(int fd) noexcept {
  if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
  FdEntry& e = fds_[static_cast<std::size_t>(fd)];
  for (OpQueue* q : {&e.readers, &e.writers}) {
    while (!q->empty()) {  // a caller's mistake; do not leave dangling pointers
      q->pop()->pending = false;
      --pending_;
    }
  }
  drop_poll(e.read_poll);
  drop_poll(e.write_poll);
}

void UringBackend::complete(Slot* slot, std::int32_t res, std::uint32_t flags, ReadyQueue& ready) {
  const bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (!more) slot->live = false;
  if (!slot->multishot) {
    complete_poll(slot, res, ready);
    return;
  }
  IoOp* op = slot->op;
  if (!op) {  // cancelled: the slot was only waiting for its request to end
    release(*slot, {res, flags});
    if (!slot->live) free_slot(slot);
    return;
  }
  if (res == -ECANCELED && slot->cancel_sent) {
    // Stopped because the operation was not taking completions; it may be again by now.
    if (!slot->live) {
      slot->cancel_sent = false;
      if (op->pending && slot->held_next == slot->held.size()) submit_multishot(slot, *op);
    }
    return;
  }
  if (op->pending) {
    op->pending = false;
    --pending_;
    hand_over(*op, {res, flags}, true);
    deliver(*op, ready);
  } else {
    slot->held.push_back({res, flags});
    if (slot->live && slot->held.size() - slot->held_next >= max_held) submit_cancel(slot);
  }
  if (!slot->live) slot->cancel_sent = false;
}

// A descriptor is ready (or has an error): the waiting operations make their calls in turn
// until one would block; the poll is submitted again while any still waits.
void UringBackend::complete_poll(Slot* slot, std::int32_t res, ReadyQueue& ready) {
  if (slot->fd < 0) {  // dropped: nobody waits on it
    free_slot(slot);
    return;
  }
  FdEntry& e = fds_[static_cast<std::size_t>(slot->fd)];
  OpQueue& queue = slot->write ? e.writers : e.readers;
  while (IoOp* op = queue.head) {
    const std::int64_t r = res < 0 ? res : attempt(*op, false);
    if (r == -EAGAIN) break;
    queue.pop();
    op->pending = false;
    op->result = r;
    --pending_;
    deliver(*op, ready);
  }
  if (!queue.empty()) {
    submit_poll(slot);
    return;
  }
  (slot->write ? e.write_poll : e.read_poll) = nullptr;
  free_slot(slot);
}

void UringBackend::poll(double timeout, ReadyQueue& ready) {
  io_uring* ring = ring_.get();
  enable();
  recycle_buffers();  // the last iteration's callbacks are done with them
  const int rc = coalesce_events_ > 1 && timeout != 0 ? wait_coalescing(timeout) : wait(timeout);
  if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
    throw_enter_error(-rc);
  }
  io_uring_cqe* cqe = nullptr;
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
    complete(reinterpret_cast<Slot*>(tag), cqe->res, cqe->flags, ready);
  }
  ::io_uring_cq_advance(ring, seen);
}

// Submits what is queued and waits for one completion, up to `timeout` seconds.
int UringBackend::wait(double timeout) {
  io_uring* ring = ring_.get();
  if (timeout < 0) return ::io_uring_submit_and_wait(ring, 1);
  if (timeout == 0) return ::io_uring_submit_and_get_events(ring);
  __kernel_timespec ts = relative_timespec(timeout);
  io_uring_cqe* cqe = nullptr;
  return ::io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, nullptr);
}

// Waits for coalesce_events_ completions, or for the window to pass with at least one (the
// kernel's minimum wait), or for `timeout` (the next timer). The kernel ends a minimum wait at
// the window even when the timeout is shorter, so a timer due within the window is waited for
// plainly: the whole batch or the timer, whichever comes first. With no timer the timeout is an
// hour, so that past the window the first completion ends the wait (without any timeout the
// kernel would return at the window with nothing, and the loop would wake each window).
int UringBackend::wait_coalescing(double timeout) {
  io_uring* ring = ring_.get();
  // liburing 2.3 cannot pass a minimum wait, so the enter below is made here and submits
  // nothing: what is queued goes first, in a call of its own.
  if (::io_uring_sq_ready(ring) > 0) {
    const int rc = ::io_uring_submit(ring);
    if (rc < 0) return rc;
  }
  const auto window = coalesce_window_.count();
  io_uring_getevents_arg arg{};
  arg.sigmask_sz = _NSIG / 8;
  if (timeout < 0 || timeout * 1e6 > static_cast<double>(window)) {
    arg.pad = static_cast<std::uint32_t>(window);  // min_wait_usec since Linux 6.12
  }
  __kernel_timespec ts = relative_timespec(timeout > 0 ? timeout : 3600.0);
  arg.ts = reinterpret_cast<std::uint64_t>(&ts);
  const long rc = ::syscall(__NR_io_uring_enter, ring->ring_fd, 0, coalesce_events_,
                            IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
  return rc < 0 ? -errno : 0;
}

const char* UringBackend::coalesce(std::chrono::microseconds window, unsigned events) noexcept {
  if (!(ring_->features & feat_min_timeout)) {
    return "this kernel's io_uring has no minimum wait (Linux 6.12 added it)";
  }
  const auto longest = std::chrono::microseconds(std::numeric_limits<std::uint32_t>::max());
  coalesce_window_ = std::min(window, longest);
  // More than the completion queue holds could never be reached: the window would always end it.
  coalesce_events_ = std::min(events, *ring_->cq.kring_entries);
  return nullptr;
}

void UringBackend::wake() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace aio::detail
