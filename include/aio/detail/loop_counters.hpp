// aio/detail/loop_counters.hpp — the counters behind EventLoop::metrics() (aio/metrics.hpp),
// kept in the loop as plain words in a fixed order, so that aio-ps can read them out of a
// running process (docs/design.md "Introspection"). Only the loop's thread writes them, but for
// the stall detector's two and `wakeups`, which other threads add to through std::atomic_ref.
#pragma once

#include <cstdint>

namespace aio::detail {

struct LoopCounters {
  static constexpr std::uint32_t io_kinds = 9;  // aio::io_operation_kinds
  std::uint64_t iterations = 0;
  std::uint64_t tasks_created = 0;
  std::uint64_t runs = 0;   // steps and callbacks
  std::uint64_t steps = 0;  // task steps
  std::uint64_t ready_max = 0;
  std::uint64_t timers_armed = 0;
  std::uint64_t timers_fired = 0;
  std::uint64_t idle_ns = 0;  // blocked in the backend's poll
  std::uint64_t born_ns = 0;  // CLOCK_MONOTONIC when the loop was made
  std::uint64_t slowest_step_ns = 0;
  std::uint64_t stalls = 0;
  std::uint64_t io_started[io_kinds] = {};
  std::uint64_t io_completed[io_kinds] = {};
  std::uint64_t executor_jobs = 0;  // run_in_executor() jobs whose results are still to come
  std::uint64_t wakeups = 0;        // eventfd writes by other threads' posts (they add, atomic_ref)
};

}  // namespace aio::detail
