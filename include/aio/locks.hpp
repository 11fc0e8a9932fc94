// aio/locks.hpp — asyncio's synchronisation primitives: Lock, Event, Condition, Semaphore,
// BoundedSemaphore, Barrier.
//
// Loop-bound, not thread-safe, as in asyncio. Waiters are woken in FIFO order, one loop turn
// after the wake-up (when asyncio's future callback would run them); a cancelled waiter takes
// nothing and, if it had already been woken, passes the wake-up on, so no one is stranded.
// Waiting allocates nothing beyond the awaiting Coro's frame. `co_await lock.scoped()` is
// `async with lock`: it returns a guard that releases when it goes out of scope.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/wait_queue.hpp"
#include "aio/errors.hpp"

namespace aio {

namespace detail {
struct DebugTableAccess;
}

/// Releases an acquired primitive when it goes out of scope (`async with`'s exit).
template <class Primitive>
class [[nodiscard]] ScopedRelease {
 public:
  explicit ScopedRelease(Primitive& p) noexcept : p_(&p) {}
  ScopedRelease(ScopedRelease&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  ScopedRelease& operator=(ScopedRelease&&) = delete;
  ~ScopedRelease() {
    if (p_) p_->release();
  }

 private:
  Primitive* p_;
};

/// asyncio.Lock: FIFO-fair; release() of an unlocked lock is a RuntimeError.
class Lock {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  bool locked() const noexcept { return locked_; }
  /// Completes (true) once the lock is ours.
  Coro<bool> acquire();
  void release();
  /// `async with lock`: acquires, and the guard releases.
  Coro<ScopedRelease<Lock>> scoped();

 private:
  void wake_first();
  void take() noexcept;

  friend struct detail::DebugTableAccess;  // src/debug/debug_table.cpp

  // Which task holds the lock, for the call graphs: known by address and number only (it may
  // end while holding the lock).
  struct Holder final : detail::WaitDescriber {
    const detail::FutureBase* task = nullptr;
    std::uint64_t id = 0;
    std::string describe_wait() const override;
  };
  Holder holder_;
  detail::WaitQueue waiters_{"Lock.acquire()", &holder_};
  std::size_t woken_ = 0;  // woken waiters that have not run yet (asyncio's done futures)
  bool locked_ = false;
};

/// asyncio.Event.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return value_; }
  /// Wakes every waiter; each returns true even if clear() comes before it runs.
  void set() {
    if (value_) return;
    value_ = true;
    waiters_.wake_all();
  }
  void clear() noexcept { value_ = false; }
  /// Completes (true) once the event is set.
  Coro<bool> wait();

 private:
  detail::WaitQueue waiters_{"Event.wait()"};
  bool value_ = false;
};

/// asyncio.Condition: wait() releases the lock, waits for a notify, and re-acquires the lock
/// before returning (also when cancelled).
class Condition {
 public:
  Condition() : owned_(std::in_place), lock_(&*owned_) {}
  explicit Condition(Lock& lock) : lock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  bool locked() const noexcept { return lock_->locked(); }
  Coro<bool> acquire() { return lock_->acquire(); }
  void release() { lock_->release(); }
  Coro<ScopedRelease<Lock>> scoped() { return lock_->scoped(); }

  /// RuntimeError without the lock held.
  Coro<bool> wait();
  /// Waits until `predicate()` is truthy; returns its value.
  template <class P>
  Coro<std::invoke_result_t<P&>> wait_for(P predicate) {
    auto result = predicate();
    while (!result) {
      co_await wait();
      result = predicate();
    }
    co_return result;
  }
  /// Wakes up to n waiters (FIFO); RuntimeError without the lock held.
  void notify(std::int64_t n = 1);
  void notify_all();

 private:
  void wake(std::int64_t n);

  std::optional<Lock> owned_;
  Lock* lock_;
  detail::WaitQueue waiters_{"Condition.wait()"};
};

/// asyncio.Semaphore: acquire() waits while the value is 0, or while others wait (FIFO).
class Semaphore {
 public:
  /// std::invalid_argument for a negative value.
  explicit Semaphore(std::int64_t value = 1);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  virtual ~Semaphore() = default;

  bool locked() const noexcept { return value_ == 0 || !waiters_.empty() || woken_ > 0; }
  Coro<bool> acquire();
  virtual void release();
  Coro<ScopedRelease<Semaphore>> scoped();

 protected:
  bool wake_next();

  detail::WaitQueue waiters_{"Semaphore.acquire()"};
  std::size_t woken_ = 0;  // woken waiters that have not run yet
  std::int64_t value_;
};

/// asyncio.BoundedSemaphore: releasing above the initial value is std::invalid_argument.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::int64_t value = 1) : Semaphore(value), bound_(value) {}
  void release() override;

 private:
  std::int64_t bound_;
};

/// asyncio.Barrier: parties tasks wait() until all have arrived.
class Barrier {
 public:
  /// std::invalid_argument for parties < 1.
  explicit Barrier(std::int64_t parties);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Waits for all parties; returns this task's arrival index. BrokenBarrierError after
  /// abort() or a reset() while waiting.
  Coro<std::int64_t> wait();
  /// Back to the empty state; parties waiting get BrokenBarrierError.
  Coro<void> reset();
  /// Breaks the barrier: waiting and future wait() calls get BrokenBarrierError.
  Coro<void> abort();

  std::int64_t parties() const noexcept { return parties_; }
  std::int64_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
  bool broken() const noexcept { return state_ == State::broken; }

 private:
  enum class State { filling, draining, resetting, broken };
  void exit();

  Condition cond_;
  std::int64_t parties_;
  std::int64_t count_ = 0;
  State state_ = State::filling;
};

}  // namespace aio
