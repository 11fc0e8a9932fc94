// aio/duration.hpp — a span of time in seconds, the way asyncio takes delays and timeouts.
//
// Implicitly built from a number of seconds (`aio::sleep(0.5)`) or from any std::chrono
// duration (`aio::sleep(250ms)`), so `std::optional<Duration>` parameters take either; NaN is
// rejected with std::invalid_argument (asyncio 3.13 raises ValueError); a negative delay is kept
// and behaves as 0 where it is used.
#pragma once

#include <stdexcept>
#include <type_traits>

namespace aio {

namespace detail {
/// A std::chrono::duration<Rep, Period>, recognised by what it offers, so that this header (which
/// every other includes) needs no <chrono>, the heaviest standard header it would pull in.
template <class D>
concept ChronoDuration = requires(const D& d) {
  typename D::rep;
  typename D::period;
  D::period::num;
  D::period::den;
  d.count();
};
}  // namespace detail

class Duration {
 public:
  constexpr Duration() = default;

  template <class Number>
  requires std::is_arithmetic_v<Number> Duration(
      Number seconds)  // NOLINT(google-explicit-constructor): asyncio takes plain numbers
      : seconds_(static_cast<double>(seconds)) {
    if (seconds_ != seconds_) throw std::invalid_argument("Invalid delay: NaN (not a number)");
  }

  /// What std::chrono::duration<double>(d).count() gives: count * num / den, in double.
  template <detail::ChronoDuration D>
  Duration(const D& d)  // NOLINT(google-explicit-constructor)
      : Duration(static_cast<double>(d.count()) * static_cast<double>(D::period::num) /
                 static_cast<double>(D::period::den)) {}

  constexpr double seconds() const noexcept { return seconds_; }

 private:
  double seconds_ = 0;
};

}  // namespace aio
