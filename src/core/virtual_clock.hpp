// The clocks behind loop.time() and perf_counter().
#pragma once

#include <cstdint>

namespace aio::detail {

/// Seconds on the monotonic clock.
double monotonic_seconds() noexcept;
/// Nanoseconds on the monotonic clock.
std::uint64_t monotonic_ns() noexcept;
/// A virtual clock jumped ahead by `seconds` (counted for perf_counter()).
void note_virtual_skip(double seconds) noexcept;
/// Total seconds all virtual clocks of the process have skipped.
double virtual_time_skipped() noexcept;

}  // namespace aio::detail
