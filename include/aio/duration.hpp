// aio/duration.hpp — a span of time in seconds, the way asyncio takes delays and timeouts.
//
// Implicitly built from a number of seconds (`aio::sleep(0.5)`) or from any std::chrono
// duration (`aio::sleep(250ms)`), so `std::optional<Duration>` parameters take either; NaN is
// rejected with std::invalid_argument (asyncio 3.13 raises ValueError); a negative delay is kept
// and behaves as 0 where it is used.
#pragma once

#include <chrono>
#include <cmath>
#include <concepts>
#include <stdexcept>

namespace aio {

class Duration {
 public:
  constexpr Duration() = default;

  template <class Number>
  requires std::is_arithmetic_v<Number> Duration(
      Number seconds)  // NOLINT(google-explicit-constructor): asyncio takes plain numbers
      : seconds_(static_cast<double>(seconds)) {
    if (std::isnan(seconds_)) throw std::invalid_argument("Invalid delay: NaN (not a number)");
  }

  template <class Rep, class Period>
  Duration(std::chrono::duration<Rep, Period> d)  // NOLINT(google-explicit-constructor)
      : Duration(std::chrono::duration<double>(d).count()) {}

  constexpr double seconds() const noexcept { return seconds_; }

 private:
  double seconds_ = 0;
};

}  // namespace aio
