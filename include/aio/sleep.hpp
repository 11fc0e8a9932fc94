// aio/sleep.hpp — asyncio.sleep(): suspend the task for a while.
//
// `co_await aio::sleep(d)` resumes the task once `d` seconds have passed on the loop's clock;
// `sleep(0)` (or a negative delay) yields to the loop exactly once. Cancelling the task removes
// its timer and throws CancelledError at the co_await. `sleep(d, value)` returns the value.
// sleep() returns a light awaitable, not a Coro, so a sleep allocates nothing: the timer node
// lives in the awaiting frame. It converts to Coro<T> wherever one is wanted.
#pragma once

#include <coroutine>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/task_core.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/duration.hpp"
#include "aio/loop.hpp"

namespace aio {

namespace detail {

/// The timer and wake-up state of one sleeping task.
class SleepWait : public TimerNode, public CancelHook {
 public:
  explicit SleepWait(double delay) noexcept : delay_(delay) {}
  SleepWait(const SleepWait&) = delete;
  SleepWait& operator=(const SleepWait&) = delete;
  ~SleepWait() {
    if (in_heap()) LoopAccess::remove_timer(task_->future().loop(), this);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    TaskCore& task = TaskCore::current();
    task_ = &task;
    if (delay_ > 0) {
      EventLoop& loop = task.future().loop();
      when = loop.time() + delay_;
      task.suspend(h, this);
      LoopAccess::add_timer(loop, this);
    } else {  // a bare yield: nothing to cancel, the step after it delivers a cancellation
      task.suspend(h, nullptr);
      woken_ = true;
      task.schedule();
    }
    task.after_suspend();
  }
  void resume_checks() {
    task_->check_cancel();
    if (cancelled_) [[unlikely]]
      throw CancelledError(std::move(cancel_message_));
  }

  // The timer came due (run from the ready queue): wake the task, one hop later as asyncio's
  // timer-completes-a-future does.
  void run() override {
    if (!woken_) {
      woken_ = true;
      task_->schedule();
    }
  }
  bool cancel(std::string_view msg) override {
    if (woken_) return false;
    if (in_heap()) LoopAccess::remove_timer(task_->future().loop(), this);
    woken_ = true;
    cancelled_ = true;
    cancel_message_ = msg;
    task_->schedule();
    return true;
  }

 private:
  double delay_;
  TaskCore* task_ = nullptr;
  bool woken_ = false;
  bool cancelled_ = false;
  std::string cancel_message_;
};

template <class T>
class SleepAwaiter : public SleepWait {
 public:
  SleepAwaiter(double delay, T&& value) : SleepWait(delay), value_(std::move(value)) {}
  T await_resume() {
    resume_checks();
    return std::move(value_);
  }

 private:
  T value_;
};

template <>
class SleepAwaiter<void> : public SleepWait {
 public:
  explicit SleepAwaiter(double delay) noexcept : SleepWait(delay) {}
  void await_resume() { resume_checks(); }
};

}  // namespace detail

/// What sleep() returns: awaitable once, or convertible to a Coro<T>.
template <class T = void>
class [[nodiscard]] Sleep {
  using Stored = std::conditional_t<std::is_void_v<T>, bool, T>;

 public:
  explicit Sleep(Duration delay) : delay_(delay.seconds()) {}
  template <class U>
  requires(!std::is_void_v<T> && std::is_constructible_v<Stored, U&&>)
      Sleep(Duration delay, U&& value)
      : delay_(delay.seconds()), value_(std::forward<U>(value)) {}

  auto operator co_await() && {
    if constexpr (std::is_void_v<T>) {
      return detail::SleepAwaiter<void>(delay_);
    } else {
      return detail::SleepAwaiter<T>(delay_, std::move(*value_));
    }
  }
  operator Coro<T>() && { return as_coro(delay_, std::move(value_)); }  // NOLINT

 private:
  static Coro<T> as_coro(double delay, std::optional<Stored> value) {
    if constexpr (std::is_void_v<T>) {
      co_await detail::SleepAwaiter<void>(delay);
    } else {
      co_return co_await detail::SleepAwaiter<T>(delay, std::move(*value));
    }
  }

  double delay_;
  std::optional<Stored> value_;
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

}  // namespace aio
