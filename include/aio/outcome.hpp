// aio/outcome.hpp — a value or an exception: what gather(return_exceptions, ...) collects.
//
// asyncio's gather(return_exceptions=True) puts the exception object in the result list where
// the value would be; C++ needs a type for "either", so each slot is an Outcome<T>. A cancelled
// child gives an Outcome holding its CancelledError.
#pragma once

#include <exception>
#include <optional>
#include <utility>

namespace aio {

template <class T>
class Outcome {
 public:
  Outcome(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Outcome(std::exception_ptr e) : exception_(std::move(e)) {}  // NOLINT
  bool has_value() const noexcept { return value_.has_value(); }
  /// The value, or rethrows the exception.
  T& value() & {
    if (!value_) std::rethrow_exception(exception_);
    return *value_;
  }
  const T& value() const& {
    if (!value_) std::rethrow_exception(exception_);
    return *value_;
  }
  T&& value() && {
    if (!value_) std::rethrow_exception(exception_);
    return std::move(*value_);
  }
  /// The exception, or nullptr.
  std::exception_ptr exception() const noexcept { return exception_; }

 private:
  std::optional<T> value_;
  std::exception_ptr exception_;
};

template <>
class Outcome<void> {
 public:
  Outcome() = default;
  Outcome(std::exception_ptr e) : exception_(std::move(e)) {}  // NOLINT
  bool has_value() const noexcept { return !exception_; }
  void value() const {
    if (exception_) std::rethrow_exception(exception_);
  }
  std::exception_ptr exception() const noexcept { return exception_; }

 private:
  std::exception_ptr exception_;
};

}  // namespace aio
