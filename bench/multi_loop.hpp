// The workloads of aio-bench that use several loops (bench/multi_loop.cpp).
#pragma once

#include <cstdint>
#include <string_view>

#include <aio/run_options.hpp>

namespace aio_bench {

/// Runs `workload` ("spawn" over `loops` loops, "xpingpong", "xchannel", "xrun_on", or
/// "echo-server" on `loops` loops) and prints its JSON line. Returns the exit status.
int run_multi_loop(std::string_view workload, int loops, std::int64_t n,
                   const aio::RunOptions& options, bool echo_streams);

/// The workloads run_multi_loop() knows.
bool is_multi_loop_workload(std::string_view workload) noexcept;

}  // namespace aio_bench
