// aio/run_options.hpp — how a loop is built: asyncio.run(debug=...) plus what C++ adds
// (a virtual clock for tests, the choice of I/O backend).
#pragma once

namespace aio {

/// The I/O backend under the loop. `automatic` picks the best one the kernel allows.
enum class Backend { automatic, epoll, io_uring };

struct RunOptions {
  bool debug = false;         ///< also on when the environment has AIO_DEBUG=1
  bool virtual_time = false;  ///< clock starts at 0 and jumps to the next timer when idle;
                              ///< also on when the environment has AIO_VIRTUAL_TIME=1
  Backend backend = Backend::automatic;
};

}  // namespace aio
