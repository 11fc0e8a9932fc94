// One attempt at an operation's system call, shared by the backends that make the calls
// themselves (epoll always; io_uring after a poll completes).
#pragma once

#include <cstdint>

#include "io/io_op.hpp"

namespace aio::detail {

/// The result, or -errno (-EAGAIN: not yet). `first` is the caller's attempt: a readiness
/// wait answers -EAGAIN then (only the backend knows readiness), a connect starts connecting;
/// later attempts follow a readiness event (a connect then reads SO_ERROR).
std::int64_t attempt(IoOp& op, bool first) noexcept;

/// Whether the operation waits for writability (send, connect...) rather than readability.
inline bool is_write(IoKind kind) noexcept {
  return kind == IoKind::writable || kind == IoKind::send || kind == IoKind::connect ||
         kind == IoKind::sendto;
}

}  // namespace aio::detail
