// aio/run_options.hpp — how a loop is built: asyncio.run(debug=...) plus what C++ adds
// (a virtual clock for tests, the choice of I/O backend, busy polling, completion coalescing).
#pragma once

#include <string>

#include "aio/duration.hpp"

namespace aio {

class EventLoop;

/// What the stall detector says (RunOptions::stall_threshold), once while a step is stuck
/// (`ended` false) and once when it has ended (`ended` true, `seconds` how long it lasted).
struct StallReport {
  const EventLoop* loop = nullptr;
  bool ended = false;
  double seconds = 0;        ///< how long the step has run (has lasted, once ended)
  std::string task;          ///< "Task 'worker'", or "a callback"
  std::string call_stack;    ///< the task's Coros, innermost first, one "File ..., line N" a line
  std::string native_stack;  ///< the loop thread's stack at that moment, symbolised, a frame a line
  std::string text;          ///< the whole report as the default handler prints it
};
/// Receives the stall reports, on the watchdog thread (the loop's thread is busy).
using StallHandler = void (*)(const StallReport& report);

/// The I/O backend under the loop. `automatic` picks the best one the kernel allows.
enum class Backend { automatic, epoll, io_uring };

struct RunOptions {
  bool debug = false;         ///< also on when the environment has AIO_DEBUG=1
  bool virtual_time = false;  ///< clock starts at 0 and jumps to the next timer when idle;
                              ///< also on when the environment has AIO_VIRTUAL_TIME=1
  Backend backend = Backend::automatic;
  /// Before the loop would sleep waiting for I/O, it polls without blocking for up to this
  /// long (Linux's SO_BUSY_POLL, in user space). Off by default: it spends CPU while idle to
  /// save the cost of waking a sleeping thread, which pays when a busy peer sends again
  /// within microseconds (see docs/guide.md). Also set by AIO_BUSY_POLL_US=N. Ignored with
  /// virtual_time.
  Duration busy_poll{};
  /// Completion coalescing (io_uring on Linux 6.12 or later): when the loop sleeps waiting for
  /// I/O, the kernel wakes it once `coalesce_events` operations have completed, or once
  /// `coalesce` has passed and at least one has, rather than at the first completion. Fewer
  /// wake-ups: less CPU per request for a busy server, for up to `coalesce` more latency on
  /// any completion (another thread's call_soon_threadsafe included). Timers are never late.
  /// Off by default; ignored by the epoll backend (epoll_wait cannot wait for a count), on
  /// older kernels and with virtual_time (debug mode says when it is ignored). Also set by
  /// AIO_COALESCE_US=N and AIO_COALESCE_EVENTS=N.
  Duration coalesce{};
  unsigned coalesce_events = 32;
  /// The stall detector: a step (a task's resume or a callback) that runs longer than this is
  /// reported while it still runs (the task, its call stack, the loop thread's native stack),
  /// and again when it ends. Off (0) by default; also set by AIO_STALL_MS=N. Needs real time.
  Duration stall_threshold{};
  /// Where the reports go; nullptr: stderr.
  StallHandler stall_handler = nullptr;
};

}  // namespace aio
