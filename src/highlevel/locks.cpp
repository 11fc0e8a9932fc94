// The synchronisation primitives: asyncio 3.13's locks.py, rule for rule.
//
// asyncio parks each waiter on a Future and keeps it in the deque until the waiter runs again;
// a waiter "done but not yet run" still counts (it will take the lock or the semaphore). Here a
// woken waiter leaves the WaitQueue at once, so each primitive counts those in `woken_`.
#include "aio/locks.hpp"

#include <exception>

#include "aio/detail/thread_state.hpp"

namespace aio {

// ---- Lock ----

Coro<bool> Lock::acquire() {
  if (!locked_ && waiters_.empty() && woken_ == 0) {
    take();
    co_return true;
  }
  detail::WaitIn w(waiters_);
  std::exception_ptr error = co_await w;
  if (w.woken()) --woken_;
  if (error) {
    // Cancelled: if the lock is free, make sure the next waiter runs (it may have been ours).
    if (!locked_) wake_first();
    std::rethrow_exception(error);
  }
  take();
  co_return true;
}

void Lock::take() noexcept {
  locked_ = true;
  if (const detail::FutureBase* task = detail::this_thread.current_task) {
    holder_.task = task;
    holder_.id = task->id();
  }
}

std::string Lock::Holder::describe_wait() const {
  if (!task) return "Lock.acquire()";
  return "Lock.acquire() (held by Task '" + detail::FutureBase::name_by_address(task, id) + "')";
}

void Lock::release() {
  if (!locked_) throw RuntimeError("Lock is not acquired.");
  locked_ = false;
  holder_.task = nullptr;
  wake_first();
}

void Lock::wake_first() {
  // asyncio wakes the first waiter unless it is already woken.
  if (woken_ == 0 && waiters_.wake_one()) ++woken_;
}

Coro<ScopedRelease<Lock>> Lock::scoped() {
  co_await acquire();
  co_return ScopedRelease<Lock>(*this);
}

// ---- Event ----

Coro<bool> Event::wait() {
  if (value_) co_return true;
  detail::Waiter w(waiters_);
  co_await w;
  co_return true;
}

// ---- Condition ----

Coro<bool> Condition::wait() {
  if (!locked()) throw RuntimeError("cannot wait on un-acquired lock");
  release();
  detail::WaitIn w(waiters_);
  std::exception_ptr error = co_await w;
  // The lock is re-acquired even when cancelled; the last cancellation is what propagates.
  for (;;) {
    try {
      co_await acquire();
      break;
    } catch (const CancelledError&) {
      error = std::current_exception();
    }
  }
  if (error) {
    // The error may have come after we were notified, while waiting or while re-acquiring:
    // notify another task instead (a spurious wake-up, which the protocol allows).
    wake(1);
    std::rethrow_exception(error);
  }
  co_return true;
}

void Condition::notify(std::int64_t n) {
  if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
  wake(n);
}

void Condition::notify_all() {
  if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
  waiters_.wake_all();
}

void Condition::wake(std::int64_t n) {
  for (std::int64_t i = 0; i < n && waiters_.wake_one(); ++i) {
  }
}

// ---- Semaphore ----

Semaphore::Semaphore(std::int64_t value) : value_(value) {
  if (value < 0) throw std::invalid_argument("Semaphore initial value must be >= 0");
}

Coro<bool> Semaphore::acquire() {
  if (!locked()) {
    --value_;
    co_return true;
  }
  detail::WaitIn w(waiters_);
  std::exception_ptr error = co_await w;
  if (w.woken()) {
    --woken_;
    // Woken (the value was counted for us) but cancelled: give it back.
    if (error) ++value_;
  }
  // Others may have had to wait behind us (FIFO): wake as many as the value allows.
  while (value_ > 0 && wake_next()) {
  }
  if (error) std::rethrow_exception(error);
  co_return true;
}

void Semaphore::release() {
  ++value_;
  wake_next();
}

bool Semaphore::wake_next() {
  if (!waiters_.wake_one()) return false;
  --value_;
  ++woken_;
  return true;
}

Coro<ScopedRelease<Semaphore>> Semaphore::scoped() {
  co_await acquire();
  co_return ScopedRelease<Semaphore>(*this);
}

void BoundedSemaphore::release() {
  if (value_ >= bound_) throw std::invalid_argument("BoundedSemaphore released too many times");
  Semaphore::release();
}

// ---- Barrier ----

Barrier::Barrier(std::int64_t parties) : parties_(parties) {
  if (parties < 1) throw std::invalid_argument("parties must be >= 1");
}

Coro<std::int64_t> Barrier::wait() {
  auto guard = co_await cond_.scoped();
  // Block while the barrier drains or resets.
  co_await cond_.wait_for(
      [this] { return state_ != State::draining && state_ != State::resetting; });
  if (state_ == State::broken) throw BrokenBarrierError();
  const std::int64_t index = count_++;
  std::exception_ptr error;
  try {
    if (index + 1 == parties_) {
      state_ = State::draining;  // the last to arrive releases everyone
      cond_.notify_all();
    } else {
      co_await cond_.wait_for([this] { return state_ != State::filling; });
      if (state_ == State::broken || state_ == State::resetting) throw BrokenBarrierError();
    }
  } catch (...) {
    error = std::current_exception();
  }
  --count_;
  exit();
  if (error) std::rethrow_exception(error);
  co_return index;
}

// The last task out of a draining or resetting barrier opens it for the next round.
void Barrier::exit() {
  if (count_ != 0) return;
  if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
  cond_.notify_all();
}

Coro<void> Barrier::reset() {
  auto guard = co_await cond_.scoped();
  if (count_ > 0) {
    state_ = State::resetting;
  } else {
    state_ = State::filling;
  }
  cond_.notify_all();
}

Coro<void> Barrier::abort() {
  auto guard = co_await cond_.scoped();
  state_ = State::broken;
  cond_.notify_all();
}

}  // namespace aio
