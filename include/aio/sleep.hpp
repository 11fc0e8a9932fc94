// aio/sleep.hpp — asyncio.sleep(): suspend the task for a while.
//
// `co_await aio::sleep(d)` resumes the task once `d` seconds have passed on the loop's clock;
// `sleep(0)` (or a negative delay) yields to the loop exactly once. Cancelling the task removes
// its timer and throws CancelledError at the co_await. `sleep(d, value)` returns the value.
// sleep() returns a light awaitable, not a Coro, so a sleep allocates nothing: the timer node
// lives in the awaiting frame. It converts to Coro<T> wherever one is wanted.
#pragma once

#include <coroutine>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/thread_state.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/duration.hpp"
#include "aio/loop.hpp"

namespace aio {

namespace detail {

/// "sleep() until t=12.300, in 2.100 s", for the call graphs.
std::string describe_sleep(const FutureBase& task, const TimerNode& timer);

/// The timer and wake-up state of one sleeping task (24 bytes in the awaiting frame).
class SleepWait : public TimerNode {
 public:
  explicit SleepWait(double delay) noexcept : delay_(delay) {}
  /// Moving is allowed before the sleep is awaited (it carries only the delay then).
  SleepWait(SleepWait&& other) noexcept : delay_(other.delay_) {}
  SleepWait& operator=(const SleepWait&) = delete;
  ~SleepWait() {
    if (in_heap()) LoopAccess::remove_timer(task().loop(), this);
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
    note_await_line(h, line);
    if (sequence == awaited) [[unlikely]]  // the union holds a task now, not a delay
      throw RuntimeError("cannot reuse already awaited coroutine");
    FutureBase& task = FutureBase::current();
    const double delay = delay_;
    task_ = reinterpret_cast<std::uintptr_t>(&task);  // from here on the union holds the task
    if (delay > 0) {
      EventLoop& loop = task.loop();
      task.suspend(h, this);
      LoopAccess::add_timer(loop, this, loop.time() + delay);
    } else {  // a bare yield: nothing to cancel, the step after it delivers a cancellation
      task.suspend(h, nullptr);
      task_ |= woken;
      LoopAccess::schedule(task.loop(), &task);  // the task's loop is running: it is open
    }
    task.after_suspend();
  }

  // The timer came due (run from the ready queue): wake the task, one hop later as asyncio's
  // timer-completes-a-future does.
  void run() override {
    if (!(task_ & woken)) {
      task_ |= woken;
      task().schedule();
    }
  }
  std::string describe() const override { return describe_sleep(task(), *this); }
  bool cancel(std::string_view msg) override {
    if (task_ & woken) return false;
    if (in_heap()) LoopAccess::remove_timer(task().loop(), this);
    task_ |= woken | cancelled;
    task().note_cancel_message(msg);
    task().schedule();
    return true;
  }

 protected:
  void resume_checks() {
    sequence = awaited;  // the timer's sequence is free once it has left the heap
    task().check_cancel();
    if (task_ & cancelled) [[unlikely]]
      task().throw_cancelled();
  }

 private:
  // The task's address, with two flags in its low bits (a task is 8-byte aligned): the task
  // was scheduled to wake; it wakes cancelled.
  static constexpr std::uintptr_t woken = 1, cancelled = 2;
  // A second co_await is asyncio's reused coroutine: marked in the TimerNode's sequence, which
  // a sleep that has not been awaited yet holds at 0 (push() sets it only once awaited).
  static constexpr std::uint32_t awaited = ~std::uint32_t{0};
  static_assert(alignof(FutureBase) > (woken | cancelled));
  FutureBase& task() const noexcept {
    return *reinterpret_cast<FutureBase*>(task_ & ~(woken | cancelled));
  }
  union {
    double delay_;         // until awaited
    std::uintptr_t task_;  // once awaited
  };
};

}  // namespace detail

/// What sleep() returns: awaited directly (the timer lives in the awaiting frame, so a sleep
/// allocates nothing), or converted to a Coro<T> where one is wanted.
template <class T = void>
class [[nodiscard]] Sleep : public detail::SleepWait {
 public:
  template <class U>
  requires std::is_constructible_v<T, U&&> Sleep(Duration delay, U&& value)
      : SleepWait(delay.seconds()), value_(std::forward<U>(value)) {}
  Sleep(Sleep&&) noexcept(std::is_nothrow_move_constructible_v<T>) = default;

  T await_resume() {
    resume_checks();
    return std::move(value_);
  }
  operator Coro<T>() && { return as_coro(std::move(*this)); }  // NOLINT(google-explicit-*)

 private:
  static Coro<T> as_coro(Sleep s) { co_return co_await std::move(s); }
  T value_;
};

template <>
class [[nodiscard]] Sleep<void> : public detail::SleepWait {
 public:
  explicit Sleep(Duration delay) : SleepWait(delay.seconds()) {}
  Sleep(Sleep&&) noexcept = default;

  void await_resume() { resume_checks(); }
  operator Coro<void>() && { return as_coro(std::move(*this)); }  // NOLINT(google-explicit-*)

 private:
  static Coro<void> as_coro(Sleep s) { co_await std::move(s); }
};

/// asyncio.sleep(delay): NaN is std::invalid_argument; delay <= 0 yields once.
inline Sleep<void> sleep(Duration delay) {
  return Sleep<void>(delay);
}
/// asyncio.sleep(delay, result).
template <class T>
Sleep<T> sleep(Duration delay, T result) {
  return Sleep<T>(delay, std::move(result));
}

// A plain number of seconds (`sleep(0)`, `sleep(0.5)`) takes these overloads, which behave as
// the ones above: they only keep the Duration temporary out of the awaiting frame (GCC keeps
// every temporary of a co_await's full expression in the frame).
template <class Number>
requires std::is_arithmetic_v<Number> Sleep<void> sleep(Number seconds) {
  return Sleep<void>(Duration(seconds));
}
template <class Number, class T>
requires std::is_arithmetic_v<Number> Sleep<T> sleep(Number seconds, T result) {
  return Sleep<T>(Duration(seconds), std::move(result));
}

}  // namespace aio
