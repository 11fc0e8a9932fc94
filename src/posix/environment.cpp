#include "posix/environment.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "aio/errors.hpp"

namespace aio::detail::environment {

namespace {

const char* value(const char* name) noexcept {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

bool flag(const char* name) noexcept {
  const char* v = value(name);
  return v && std::strcmp(v, "0") != 0;
}

// A duration in `unit` (a non-negative number), in seconds; nullopt when unset.
std::optional<double> seconds_of(const char* name, double unit, const char* unit_name) {
  const char* v = value(name);
  if (!v) return std::nullopt;
  char* end = nullptr;
  const double n = std::strtod(v, &end);
  if (*end != '\0' || !(n >= 0)) {
    throw RuntimeError(std::string(name) + "='" + v + "' is not a number of " + unit_name);
  }
  return n * unit;
}

std::optional<double> microseconds(const char* name) {
  return seconds_of(name, 1e-6, "microseconds");
}

std::optional<double> milliseconds(const char* name) {
  return seconds_of(name, 1e-3, "milliseconds");
}

}  // namespace

bool debug() noexcept {
  return flag("AIO_DEBUG");
}

bool virtual_time() noexcept {
  return flag("AIO_VIRTUAL_TIME");
}

bool report_virtual_time() noexcept {
  const char* v = value("AIO_REPORT_VIRTUAL_TIME");
  return v && std::strcmp(v, "1") == 0;
}

std::string_view backend() noexcept {
  const char* v = std::getenv("AIO_BACKEND");
  return v ? v : "";
}

std::optional<double> busy_poll_seconds() {
  return microseconds("AIO_BUSY_POLL_US");
}

std::optional<double> stall_seconds() {
  return milliseconds("AIO_STALL_MS");
}

std::optional<double> asleep_warning_seconds() {
  return milliseconds("AIO_ASLEEP_WARNING_MS");
}

std::optional<int> dump_signal() {
  const char* v = value("AIO_DUMP_SIGNAL");
  if (!v) return std::nullopt;
  std::string_view name(v);
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  static constexpr std::pair<std::string_view, int> names[] = {
      {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},  {"HUP", SIGHUP},
      {"INT", SIGINT},   {"TERM", SIGTERM}, {"WINCH", SIGWINCH}};
  for (const auto& [n, number] : names) {
    if (name == n) return number;
  }
  char* end = nullptr;
  const long number = std::strtol(v, &end, 10);
  if (*end != '\0' || number <= 0 || number >= NSIG) {
    throw RuntimeError(std::string("AIO_DUMP_SIGNAL='") + v + "' is not a signal");
  }
  return static_cast<int>(number);
}

std::optional<double> coalesce_seconds() {
  return microseconds("AIO_COALESCE_US");
}

std::optional<unsigned> coalesce_events() {
  const char* v = value("AIO_COALESCE_EVENTS");
  if (!v) return std::nullopt;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (*end != '\0' || *v == '-' || n < 1 || n > 1u << 20) {
    throw RuntimeError(std::string("AIO_COALESCE_EVENTS='") + v +
                       "' is not a number of completions (1 to 1048576)");
  }
  return static_cast<unsigned>(n);
}

}  // namespace aio::detail::environment
