// aio/timeouts.hpp — asyncio.timeout / timeout_at / Timeout, wait_for, shield, wait.
//
// timeout(d, aw) runs `aw` inline in the current task; when the deadline passes the task is
// cancelled, and the CancelledError that comes out of `aw` is turned into TimeoutError. A
// cancellation from anywhere else goes through untouched (the task's cancelling() count tells
// them apart, exactly as asyncio 3.11+ does). wait_for(aw, d) is the same with asyncio's
// special case for d <= 0. shield(aw) returns a Future that can be cancelled without cancelling
// `aw`. wait(futures, return_when, timeout) waits for some of them and returns {done, pending},
// cancelling nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/awaitable.hpp"
#include "aio/duration.hpp"
#include "aio/future.hpp"
#include "aio/handle.hpp"
#include "aio/loop.hpp"
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

namespace detail {

template <class T>
Coro<T> wait_for_now(Future<T> f) {
  // asyncio's wait_for(timeout <= 0): a done future gives its result; else cancel, wait, and
  // report TimeoutError.
  if (!f.done()) {
    f.cancel();
    co_await DoneAwaiter(*f.core(), false);
    if (f.cancelled()) throw TimeoutError("wait_for(): timed out");
  }
  co_return co_await await_in_coro(std::move(f));
}

}  // namespace detail

/// asyncio.wait_for(aw, timeout): TimeoutError after `timeout` seconds, once the cancelled
/// inner operation has finished; nullopt waits without limit.
template <class A>
auto wait_for(A&& aw, std::optional<Duration> timeout) {
  using T = detail::await_result_t<std::remove_cvref_t<A>>;
  if (timeout && timeout->seconds() <= 0) {
    return detail::wait_for_now(Future<T>(ensure_future(std::forward<A>(aw))));
  }
  return Timeout::after(timeout).run(detail::as_coro(std::forward<A>(aw)));
}

/// asyncio.shield(aw): a Future that mirrors `aw`; cancelling it leaves `aw` running. A done
/// `aw` is returned as it is.
template <class A>
auto shield(A&& aw) {
  auto inner = ensure_future(std::forward<A>(aw));
  using T = typename decltype(inner)::value_type;
  Future<T> in(inner);
  if (in.done()) return in;
  Future<T> outer = in.get_loop().template create_future<T>();
  auto on_inner = in.add_done_callback([outer](Future<T>& done) mutable {
    if (outer.cancelled()) {
      if (!done.cancelled()) done.exception();  // retrieved: nobody else will report it
      return;
    }
    if (done.cancelled()) {
      outer.cancel();
    } else if (auto e = done.exception()) {
      outer.set_exception(e);
    } else if constexpr (std::is_void_v<T>) {
      outer.set_result();
    } else {
      outer.set_result(done.result());
    }
  });
  outer.add_done_callback([in, on_inner](Future<T>&) mutable {
    if (!in.done()) in.remove_done_callback(on_inner);
  });
  return outer;
}

enum class ReturnWhen { first_completed, first_exception, all_completed };

template <class F>
struct WaitResult {
  std::vector<F> done;
  std::vector<F> pending;
};

namespace detail {

/// asyncio.tasks._wait: wakes when `return_when` is met or the timeout passes.
template <class F>
Coro<WaitResult<F>> wait_for_some(std::vector<F> fs, ReturnWhen when,
                                  std::optional<Duration> timeout) {
  struct Shared {
    std::size_t counter;
    ReturnWhen when;
    Future<void> waiter;
  };
  EventLoop& loop = get_running_loop();
  auto shared = std::make_shared<Shared>(Shared{fs.size(), when, loop.create_future<void>()});
  TimerHandle timer;
  if (timeout) {
    timer = loop.call_later(*timeout, [shared] {
      if (!shared->waiter.done()) shared->waiter.set_result();
    });
  }
  std::vector<CallbackId> ids;
  ids.reserve(fs.size());
  for (auto& f : fs) {
    ids.push_back(f.add_done_callback([shared](auto& done) {
      const bool failed = !done.cancelled() && done.exception();
      if (--shared->counter == 0 || shared->when == ReturnWhen::first_completed ||
          (shared->when == ReturnWhen::first_exception && failed)) {
        if (!shared->waiter.done()) shared->waiter.set_result();
      }
    }));
  }
  std::exception_ptr error;
  try {
    co_await shared->waiter;
  } catch (...) {
    error = std::current_exception();  // the waiting task was cancelled: the futures are not
  }
  timer.cancel();
  for (std::size_t i = 0; i < fs.size(); ++i) {
    if (!fs[i].done()) fs[i].remove_done_callback(ids[i]);
  }
  if (error) std::rethrow_exception(error);
  WaitResult<F> result;
  for (auto& f : fs) (f.done() ? result.done : result.pending).push_back(std::move(f));
  co_return result;
}

}  // namespace detail

/// asyncio.wait(): F is Task<T> or Future<T> (a Coro does not compile: asyncio 3.11+ refuses
/// coroutines too); duplicates count once; an empty range is std::invalid_argument. A timeout
/// returns what is done by then and cancels nothing.
template <std::ranges::range Range>
requires detail::IsFuture<std::ranges::range_value_t<Range>>::value
    Coro<WaitResult<std::ranges::range_value_t<Range>>>
    wait(const Range& futures, ReturnWhen return_when = ReturnWhen::all_completed,
         std::optional<Duration> timeout = std::nullopt) {
  using F = std::ranges::range_value_t<Range>;
  std::vector<F> fs;
  std::unordered_set<const detail::FutureBase*> seen;
  for (const auto& f : futures) {
    if (seen.insert(f.base()).second) fs.push_back(f);
  }
  if (fs.empty()) throw std::invalid_argument("Set of Tasks/Futures is empty.");
  return detail::wait_for_some(std::move(fs), return_when, timeout);
}

}  // namespace aio
