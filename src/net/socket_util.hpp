// Small pieces the networking files share.
#pragma once

#include <cstdint>
#include <string>

#include "aio/loop.hpp"
#include "aio/socket.hpp"
#include "io/backend.hpp"

namespace aio::detail {

/// A descriptor is about to be closed: the running loop's backend forgets it (a later
/// descriptor with the same number starts clean).
void forget_descriptor(int fd) noexcept;

/// Writing to a closed pipe or socket must give EPIPE, never kill the process: SIGPIPE is
/// ignored once, when the first loop does I/O, unless the program installed its own handler
/// (Python does the same at start-up).
void ignore_sigpipe() noexcept;

/// AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC for `unspecified`.
int native_family(AddressFamily family) noexcept;

/// Sets O_NONBLOCK on a descriptor (pipes handed to a transport).
void set_nonblocking(int fd);

}  // namespace aio::detail
