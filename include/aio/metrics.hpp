// aio/metrics.hpp — what a loop has done: EventLoop::metrics() returns a LoopMetrics, a plain
// snapshot (asyncio has no counterpart; uvloop and tokio's RuntimeMetrics are the model).
//
// The counts are kept always (a few increments per turn of the loop; docs/performance.md
// gives their cost); the step timings (slowest_step_seconds) only while the stall detector or
// debug mode times the steps. aio-ps --metrics PID reads the same counters from outside.
#pragma once

#include <cstdint>
#include <string>

namespace aio {

/// The kinds of I/O operation a loop counts (the backend's; see docs/design.md "Backends").
enum class IoOperation : std::uint8_t {
  readable,  ///< readiness waits: add_reader, a stream waiting for data
  writable,  ///< add_writer, a stream waiting for room
  recv,
  send,
  accept,
  connect,
  recvfrom,
  sendto,
  receive,  ///< io_uring's multishot receive into buffers the kernel picks
};
inline constexpr int io_operation_kinds = 9;

struct LoopMetrics {
  std::uint64_t iterations = 0;     ///< turns of the loop
  std::uint64_t tasks_created = 0;  ///< tasks started on the loop
  std::uint64_t tasks_alive = 0;    ///< unfinished tasks now
  std::uint64_t steps = 0;          ///< task steps run
  std::uint64_t callbacks = 0;      ///< everything else run: handles, done callbacks, timers
  std::uint64_t ready_now = 0;      ///< the ready queue's length now
  std::uint64_t ready_max = 0;      ///< ... and the longest it was at the start of a turn
  std::uint64_t timers_armed = 0;   ///< sleeps, call_later/call_at, timeouts
  std::uint64_t timers_fired = 0;   ///< those that came due (the rest were cancelled)
  std::uint64_t timers_pending = 0;
  std::uint64_t io_started[io_operation_kinds] = {};    ///< by IoOperation
  std::uint64_t io_completed[io_operation_kinds] = {};  ///< by IoOperation
  double busy_seconds = 0;          ///< since the loop was made, not waiting for I/O or time
  double idle_seconds = 0;          ///< waiting in the backend's poll
  double slowest_step_seconds = 0;  ///< while steps are timed (stall detector, debug)
  std::string slowest_step;         ///< what it ran ("Task 'worker'", "callback")
  std::uint64_t stalls = 0;         ///< steps the stall detector reported
  /// Times another thread's post (call_soon_threadsafe, run_on, a Channel) woke the loop from
  /// a blocking poll: one per batch of posts, none while the loop is busy or busy-polling.
  std::uint64_t wakeups = 0;
};

}  // namespace aio
