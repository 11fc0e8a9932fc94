// Timeout: asyncio.timeouts.Timeout's state machine, one to one.
#include "aio/timeouts.hpp"

#include <cmath>
#include <string>

namespace aio {

namespace detail {

namespace {
const char* phase_name(TimeoutState::Phase p) {
  switch (p) {
    case TimeoutState::Phase::created:
      return "created";
    case TimeoutState::Phase::entered:
      return "active";
    case TimeoutState::Phase::expiring:
      return "expiring";
    case TimeoutState::Phase::expired:
      return "expired";
    case TimeoutState::Phase::exited:
      return "finished";
  }
  return "unknown";
}
}  // namespace

std::string TimeoutState::repr() const {
  std::string info;
  if (phase_ == Phase::entered) {
    // asyncio prints round(when, 3), or None without a deadline.
    info = " when=" + (when_ ? value_repr(std::round(*when_ * 1000) / 1000) : std::string("None"));
  }
  return std::string("<Timeout [") + phase_name(phase_) + "]" + info + ">";
}

void TimeoutState::reschedule(std::optional<double> when) {
  if (phase_ != Phase::entered) {
    if (phase_ == Phase::created) throw RuntimeError("Timeout has not been entered");
    throw RuntimeError(std::string("Cannot change state of ") + phase_name(phase_) + " Timeout");
  }
  when_ = when;
  handle_.cancel();
  handle_ = TimerHandle();
  if (!when) return;
  EventLoop& loop = get_running_loop();
  if (*when <= loop.time()) {
    handle_ = TimerHandle(loop.call_soon([this] { expire(); }));
  } else {
    handle_ = loop.call_at(*when, [this] { expire(); });
  }
}

void TimeoutState::enter() {
  if (phase_ != Phase::created) throw RuntimeError("Timeout has already been entered");
  std::optional<TaskRef> task = current_task();
  if (!task) throw RuntimeError("Timeout should be used inside a task");
  phase_ = Phase::entered;
  task_ = std::move(task);
  cancelling_ = task_->cancelling();
  reschedule(when_);
}

void TimeoutState::expire() {
  task_->cancel();
  phase_ = Phase::expiring;
  handle_ = TimerHandle();
}

void TimeoutState::exit(const std::exception_ptr& error) {
  handle_.cancel();
  handle_ = TimerHandle();
  if (phase_ == Phase::expiring) {
    phase_ = Phase::expired;
    // No other cancel request came in: the CancelledError is ours to turn into TimeoutError.
    if (task_->uncancel() <= cancelling_ && error) {
      try {
        std::rethrow_exception(error);
      } catch (const CancelledError&) {
        throw TimeoutError("timed out");
      } catch (...) {
      }
    }
  } else if (phase_ == Phase::entered) {
    phase_ = Phase::exited;
  }
}

}  // namespace detail

Timeout Timeout::after(std::optional<Duration> delay) {
  if (!delay) return Timeout(std::nullopt);
  return Timeout(get_running_loop().time() + delay->seconds());
}

}  // namespace aio
