// The I/O backend under the loop: one small interface, one file per implementation, chosen in
// backend.cpp alone. Nothing above src/io includes a Linux header.
//
// The layers above start operations (accept, connect, recv, send, readiness waits; a child's
// exit is a readiness wait on its pidfd; signals wake the loop through wake()), and the loop
// asks once per iteration: wait for I/O (up to a timeout) and queue what completed. The
// interface speaks in operations, not readiness, so an io_uring implementation is first-class.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "aio/detail/loop_counters.hpp"
#include "aio/detail/runnable.hpp"
#include "aio/run_options.hpp"
#include "io/io_op.hpp"

namespace aio::detail {

class Backend {
 public:
  virtual ~Backend() = default;
  /// Waits up to `timeout` seconds (negative: without limit, 0: not at all) for I/O, a
  /// wake(), or nothing; queues the operations that completed on `ready`.
  virtual void poll(double timeout, ReadyQueue& ready) = 0;
  /// One attempt at the operation's call, never waiting: the result, or -EAGAIN (-errno on
  /// failure). What a transport uses to send before it buffers.
  std::int64_t try_now(IoOp& op) noexcept {
    const std::int64_t r = try_op(op);
    if (r != -EAGAIN) {
      ++counters_->io_started[static_cast<int>(op.kind)];
      ++counters_->io_completed[static_cast<int>(op.kind)];
    }
    return r;
  }
  /// Starts `op`. True: it completed at once (op.result is set; run() will not be called).
  /// False: the backend took it and queues it when it completes.
  bool start(IoOp& op) {
    ++counters_->io_started[static_cast<int>(op.kind)];
    const bool now = start_op(op);
    if (now) ++counters_->io_completed[static_cast<int>(op.kind)];
    return now;
  }
  /// Withdraws a taken operation. True: it will not complete. False: it was not pending (its
  /// completion may already be queued: the caller keeps it alive until run()).
  virtual bool cancel(IoOp& op) noexcept = 0;
  /// `fd` is about to be closed; no operation may be pending on it.
  virtual void forget(int fd) noexcept = 0;
  /// Interrupts a poll() in progress or makes the next one return at once. Thread-safe.
  virtual void wake() noexcept = 0;
  /// Whether any operation is pending (the loop may skip polling when none is).
  virtual bool has_io() const noexcept = 0;
  /// Whether IoKind::receive gets data in the backend's own buffers (io_uring's provided
  /// buffers); otherwise a stream reads after a readiness wait.
  virtual bool selects_buffers() const noexcept { return false; }
  /// Asks that a poll() which would block wake only once `events` operations have completed,
  /// or once `window` has passed and one has (RunOptions::coalesce). Null when taken; else why
  /// this backend or kernel cannot, and polls wake at the first completion as before.
  virtual const char* coalesce(std::chrono::microseconds window, unsigned events) noexcept {
    (void)window;
    (void)events;
    return "epoll_wait cannot wait for a number of events";
  }
  virtual const char* name() const noexcept = 0;
  /// Where the operations are counted (the loop's metrics()).
  void count_into(LoopCounters& counters) noexcept { counters_ = &counters; }

 protected:
  virtual std::int64_t try_op(IoOp& op) noexcept = 0;
  virtual bool start_op(IoOp& op) = 0;
  /// An operation completed: to the ready queue, counted.
  void deliver(IoOp& op, ReadyQueue& ready) noexcept {
    ++counters_->io_completed[static_cast<int>(op.kind)];
    ready.push(&op);
  }

 private:
  LoopCounters unused_;  // until count_into()
  LoopCounters* counters_ = &unused_;
};

/// The one place that names the implementations. RuntimeError when `kind` is not available;
/// `automatic` falls back to epoll and says why in `note` (for debug mode).
std::unique_ptr<Backend> make_backend(aio::Backend kind, std::string* note = nullptr);

}  // namespace aio::detail
