// The I/O backend under the loop: one small interface, one file per implementation, chosen in
// backend.cpp alone. Nothing above src/io includes a Linux header.
//
// The layers above start operations (accept, connect, recv, send, readiness waits; a child's
// exit is a readiness wait on its pidfd; signals wake the loop through wake()), and the loop
// asks once per iteration: wait for I/O (up to a timeout) and queue what completed. The
// interface speaks in operations, not readiness, so an io_uring implementation is first-class.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

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
  virtual std::int64_t try_now(IoOp& op) noexcept = 0;
  /// Starts `op`. True: it completed at once (op.result is set; run() will not be called).
  /// False: the backend took it and queues it when it completes.
  virtual bool start(IoOp& op) = 0;
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
};

/// The one place that names the implementations. RuntimeError when `kind` is not available;
/// `automatic` falls back to epoll and says why in `note` (for debug mode).
std::unique_ptr<Backend> make_backend(aio::Backend kind, std::string* note = nullptr);

}  // namespace aio::detail
