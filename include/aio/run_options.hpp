// aio/run_options.hpp — how a loop is built: asyncio.run(debug=...) plus what C++ adds
// (a virtual clock for tests, the choice of I/O backend, busy polling).
#pragma once

#include "aio/duration.hpp"

namespace aio {

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
};

}  // namespace aio
