// perf_counter(): the monotonic clock plus the time virtual clocks have skipped.
#include "aio/clock.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>

#include "core/virtual_clock.hpp"
#include "posix/environment.hpp"

namespace aio {

namespace detail {
namespace {
std::atomic<double> skipped_seconds{0.0};

// With AIO_REPORT_VIRTUAL_TIME=1 the process reports, as it exits, how much time its virtual
// clocks skipped: how tests learn the virtual duration of a whole example program.
struct VirtualTimeReport {
  ~VirtualTimeReport() {
    if (environment::report_virtual_time()) {
      std::fprintf(stderr, "aio: virtual time skipped: %.3f s\n", skipped_seconds.load());
    }
  }
} report_at_exit;
}  // namespace

void note_virtual_skip(double seconds) noexcept {
  skipped_seconds.fetch_add(seconds, std::memory_order_relaxed);
}
double virtual_time_skipped() noexcept {
  return skipped_seconds.load(std::memory_order_relaxed);
}
std::uint64_t monotonic_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}
double monotonic_seconds() noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace detail

double perf_counter() noexcept {
  return detail::monotonic_seconds() + detail::virtual_time_skipped();
}

}  // namespace aio
