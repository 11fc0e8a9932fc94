// POSIX helpers for descriptors that networking and subprocesses share.
#pragma once

namespace aio::detail {

/// Writing to a closed pipe or socket must give EPIPE, never kill the process: SIGPIPE is
/// ignored once, when the first loop does I/O, unless the program installed its own handler
/// (Python does the same at start-up).
void ignore_sigpipe() noexcept;

/// Sets O_NONBLOCK on a descriptor (pipes handed to a transport); std::system_error if the
/// kernel refuses.
void set_nonblocking(int fd);

}  // namespace aio::detail
