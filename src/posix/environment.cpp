#include "posix/environment.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

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

std::optional<double> microseconds(const char* name) {
  const char* v = value(name);
  if (!v) return std::nullopt;
  char* end = nullptr;
  const double us = std::strtod(v, &end);
  if (*end != '\0' || !(us >= 0)) {
    throw RuntimeError(std::string(name) + "='" + v + "' is not a number of microseconds");
  }
  return us * 1e-6;
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
