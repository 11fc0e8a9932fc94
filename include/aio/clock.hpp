// aio/clock.hpp — Python's time.perf_counter(), aware of virtual time.
//
// Programs measure how long a run took as Python's do: `s = perf_counter(); run(main());
// perf_counter() - s`. Under virtual time the loops skip their sleeps, so this clock adds the
// time every virtual clock in the process has skipped: a program reads the duration it would
// have taken in real time, and a test can check a seed program's "executed in 1.00 seconds".
#pragma once

namespace aio {

/// Seconds on a monotonic clock, plus the time virtual clocks have skipped (0 in real time).
double perf_counter() noexcept;

}  // namespace aio
