// aio/timeout.hpp — asyncio.timeout / timeout_at and the Timeout they make.
//
// timeout(d, aw) runs `aw` inline in the current task; when the deadline passes the task is
// cancelled, and the CancelledError that comes out of `aw` is turned into TimeoutError. A
// cancellation from anywhere else goes through untouched (the task's cancelling() count tells
// them apart, exactly as asyncio 3.11+ does).
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/awaitable.hpp"
#include "aio/duration.hpp"
#include "aio/handle.hpp"
#include "aio/task.hpp"

namespace aio {

namespace detail {

/// The state of one Timeout: asyncio's timeouts.Timeout, one to one.
class TimeoutState {
 public:
  enum class Phase { created, entered, expiring, expired, exited };

  explicit TimeoutState(std::optional<double> when) noexcept : when_(when) {}
  TimeoutState(const TimeoutState&) = delete;
  TimeoutState& operator=(const TimeoutState&) = delete;
  ~TimeoutState() { handle_.cancel(); }

  std::optional<double> when() const noexcept { return when_; }
  bool expired() const noexcept { return phase_ == Phase::expiring || phase_ == Phase::expired; }
  std::string repr() const;
  void reschedule(std::optional<double> when);
  /// __aenter__: RuntimeError if entered before or outside a task.
  void enter();
  /// __aexit__: `error` is what the body threw (or null). Throws TimeoutError when the body's
  /// CancelledError was this timeout's doing; otherwise returns and the caller rethrows.
  void exit(const std::exception_ptr& error);

 private:
  void expire();

  std::optional<double> when_;
  Phase phase_ = Phase::created;
  TimerHandle handle_;
  std::optional<TaskRef> task_;
  std::int64_t cancelling_ = 0;
};

template <class T>
Coro<T> as_coro(Coro<T> c) {
  return c;
}
template <class A>
requires(!IsCoro<std::remove_cvref_t<A>>::value) auto as_coro(A&& aw) {
  return await_in_coro(std::remove_cvref_t<A>(std::forward<A>(aw)));
}

}  // namespace detail

/// asyncio.Timeout: a deadline for a body run inline in the current task.
class Timeout {
 public:
  /// The deadline is fixed now: loop.time() + d (nullopt: no deadline).
  static Timeout after(std::optional<Duration> delay);
  static Timeout at(std::optional<double> when) { return Timeout(when); }

  Timeout(Timeout&&) noexcept = default;
  Timeout& operator=(Timeout&&) noexcept = default;

  /// Runs `body` (a Coro or any awaitable) under this deadline, inline in the current task;
  /// once: a second run is a RuntimeError.
  template <class A>
  auto run(A&& body) {
    return run_in(state_, detail::as_coro(std::forward<A>(body)));
  }
  std::optional<double> when() const noexcept { return state_->when(); }
  /// Moves the deadline (nullopt: none); RuntimeError before the run starts or after it ends.
  void reschedule(std::optional<double> when) { state_->reschedule(when); }
  bool expired() const noexcept { return state_->expired(); }
  /// asyncio's repr(): "<Timeout [active] when=12.3>", "<Timeout [expired]>", ...
  std::string repr() const { return state_->repr(); }

 private:
  explicit Timeout(std::optional<double> when)
      : state_(std::make_shared<detail::TimeoutState>(when)) {}

  template <class T>
  static Coro<T> run_in(std::shared_ptr<detail::TimeoutState> state, Coro<T> body) {
    state->enter();
    std::exception_ptr error;
    if constexpr (std::is_void_v<T>) {
      try {
        co_await std::move(body);
      } catch (...) {
        error = std::current_exception();
      }
      state->exit(error);
      if (error) std::rethrow_exception(error);
    } else {
      std::optional<T> result;
      try {
        result.emplace(co_await std::move(body));
      } catch (...) {
        error = std::current_exception();
      }
      state->exit(error);
      if (error) std::rethrow_exception(error);
      co_return std::move(*result);
    }
  }

  std::shared_ptr<detail::TimeoutState> state_;
};

/// asyncio.timeout(d): runs `aw` (a Coro or any awaitable) with a deadline d seconds away.
template <class A>
auto timeout(std::optional<Duration> delay, A&& aw) {
  return Timeout::after(delay).run(detail::as_coro(std::forward<A>(aw)));
}

/// asyncio.timeout_at(when): the same with an absolute deadline on the loop's clock.
template <class A>
auto timeout_at(std::optional<double> when, A&& aw) {
  return Timeout::at(when).run(detail::as_coro(std::forward<A>(aw)));
}

}  // namespace aio
