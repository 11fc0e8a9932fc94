// perf_counter(): the monotonic clock plus the time virtual clocks have skipped.
#include "aio/clock.hpp"

#include <atomic>
#include <chrono>

#include "core/virtual_clock.hpp"

namespace aio {

namespace detail {
namespace {
std::atomic<double> skipped_seconds{0.0};
}  // namespace

void note_virtual_skip(double seconds) noexcept {
  skipped_seconds.fetch_add(seconds, std::memory_order_relaxed);
}
double virtual_time_skipped() noexcept {
  return skipped_seconds.load(std::memory_order_relaxed);
}
double monotonic_seconds() noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace detail

double perf_counter() noexcept {
  return detail::monotonic_seconds() + detail::virtual_time_skipped();
}

}  // namespace aio
