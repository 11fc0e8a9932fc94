// The AIO_* environment settings, read in one place. Each is read when it is needed, not
// cached: a program (or a test) may set one between two loops. aio/run_options.hpp says what
// each does; a malformed value is a RuntimeError naming the variable.
#pragma once

#include <optional>
#include <string_view>

namespace aio::detail::environment {

/// AIO_DEBUG: set to anything but "" or "0" (RunOptions::debug for every loop).
bool debug() noexcept;
/// AIO_VIRTUAL_TIME: likewise (RunOptions::virtual_time).
bool virtual_time() noexcept;
/// AIO_REPORT_VIRTUAL_TIME=1: report at exit how much time the virtual clocks skipped.
bool report_virtual_time() noexcept;
/// AIO_BACKEND: "epoll", "io_uring" (or "uring"), "automatic"; empty when unset.
std::string_view backend() noexcept;
/// AIO_BUSY_POLL_US, in seconds; nullopt when unset.
std::optional<double> busy_poll_seconds();
/// AIO_COALESCE_US, in seconds; nullopt when unset.
std::optional<double> coalesce_seconds();
/// AIO_STALL_MS, in seconds (RunOptions::stall_threshold); nullopt when unset.
std::optional<double> stall_seconds();
/// AIO_ASLEEP_WARNING_MS, in seconds: how long a real-time loop in debug mode sleeps with
/// nothing that could wake it before it says so (10 s when unset).
std::optional<double> asleep_warning_seconds();
/// AIO_DUMP_SIGNAL: a signal's number ("QUIT", "SIGUSR1" or "3"); nullopt when unset.
std::optional<int> dump_signal();
/// AIO_COALESCE_EVENTS, from 1 to 2^20; nullopt when unset.
std::optional<unsigned> coalesce_events();

}  // namespace aio::detail::environment
