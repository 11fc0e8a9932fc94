// Small pieces the networking files share (the POSIX ones, shared with subprocesses, are in
// posix/descriptors.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "aio/loop.hpp"
#include "aio/socket.hpp"
#include "io/backend.hpp"
#include "posix/descriptors.hpp"

namespace aio::detail {

/// A descriptor is about to be closed: the running loop's backend forgets it (a later
/// descriptor with the same number starts clean).
void forget_descriptor(int fd) noexcept;

/// AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC for `unspecified`.
int native_family(AddressFamily family) noexcept;

}  // namespace aio::detail
