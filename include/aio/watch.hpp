// aio/watch.hpp — Watch<T>: the latest value, watched from any loop or thread.
//
// asyncio has no such primitive (an Event plus a variable is the usual idiom); tokio's
// `watch` channel is the model. One value, replaced by send(); receivers wait for a newer one
// than they last saw, and intermediate values may be skipped (a configuration, a state, a
// price). Every member is thread-safe.
//
//   aio::Watch<Config> config(initial);
//   auto rx = config.subscribe();          // has seen the current value
//   co_await rx.changed();                 // waits for a newer one (QueueShutDown once closed)
//   Config now = rx.get();                 // the latest, now seen
//   config.send(next);                     // from anywhere; wakes every waiting receiver
#pragma once

#include <coroutine>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "aio/detail/cross_wait.hpp"
#include "aio/errors.hpp"

namespace aio {

template <class T>
class Watch {
 public:
  explicit Watch(T initial) : value_(std::move(initial)) {}
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  /// Replaces the value and wakes every waiting receiver; QueueShutDown after close().
  void send(T value) {
    modify([&](T& v) { v = std::move(value); });
  }
  /// Changes the value in place (fn(T&), under the watch's lock) and wakes the receivers.
  template <class F>
  void modify(F fn) {
    detail::change_and_wake_all(mutex_, waiters_, [&] {
      if (closed_) throw QueueShutDown();
      fn(value_);
      ++version_;
    });
  }
  /// A copy of the latest value.
  T get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  /// How many times the value was replaced.
  std::uint64_t version() const {
    std::lock_guard lock(mutex_);
    return version_;
  }
  /// No more values: receivers that have seen the last one get QueueShutDown from changed().
  void close() {
    detail::change_and_wake_all(mutex_, waiters_, [&] { closed_ = true; });
  }
  bool is_closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  class ChangedAwaiter;

  /// One watcher's view: the version it saw last.
  class Receiver {
   public:
    /// Waits for a value newer than the last seen (at once if there is one) and marks it
    /// seen; QueueShutDown once the watch is closed and nothing newer came.
    ChangedAwaiter changed() { return ChangedAwaiter(*this); }
    /// From a plain thread: changed(), blocking it.
    void changed_blocking() {
      std::unique_lock lock(watch_->mutex_);
      while (watch_->version_ == seen_) {
        if (watch_->closed_) throw QueueShutDown();
        detail::block_in(watch_->waiters_, lock);
      }
      seen_ = watch_->version_;
    }
    /// The latest value, marking it seen.
    T get() {
      std::lock_guard lock(watch_->mutex_);
      seen_ = watch_->version_;
      return watch_->value_;
    }
    /// A newer value than the last seen is there.
    bool has_changed() const {
      std::lock_guard lock(watch_->mutex_);
      return watch_->version_ != seen_;
    }

   private:
    friend class Watch;
    friend class ChangedAwaiter;
    Receiver(Watch& w, std::uint64_t seen) noexcept : watch_(&w), seen_(seen) {}
    Watch* watch_;
    std::uint64_t seen_;
  };

  /// A receiver that has seen the current value.
  Receiver subscribe() {
    std::lock_guard lock(mutex_);
    return Receiver(*this, version_);
  }

  class NextChange;
  /// `co_await watch.changed()`: waits for the next value sent after this call (a receiver of
  /// its own, made now); QueueShutDown once closed. Then get() the value.
  NextChange changed() { return NextChange(*this); }

  class ChangedAwaiter {
   public:
    explicit ChangedAwaiter(Receiver& rx)
        : rx_(&rx), wait_(rx.watch_->mutex_, rx.watch_->waiters_, "Watch.changed()") {}
    ChangedAwaiter(ChangedAwaiter&& other)
        : rx_(other.rx_), wait_(rx_->watch_->mutex_, rx_->watch_->waiters_, "Watch.changed()") {}

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
      detail::note_await_line(h, line);
      Watch& w = *rx_->watch_;
      std::unique_lock lock(w.mutex_);
      if (w.version_ != rx_->seen_ || w.closed_) {
        ready_ = true;
        settle(w);
        return false;
      }
      wait_.wait(h, lock);
      return true;
    }
    void await_resume() {
      if (ready_) {
        if (closed_) throw QueueShutDown();
        return;
      }
      wait_.check();
      Watch& w = *rx_->watch_;
      std::lock_guard lock(w.mutex_);
      settle(w);
      if (closed_) throw QueueShutDown();
    }

   private:
    // Under the lock: a newer value is seen now; else the watch is closed.
    void settle(Watch& w) {
      if (w.version_ != rx_->seen_) {
        rx_->seen_ = w.version_;
      } else {
        closed_ = true;
      }
    }
    Receiver* rx_;
    detail::CrossWait wait_;
    bool ready_ = false;
    bool closed_ = false;
  };

  class NextChange {
   public:
    explicit NextChange(Watch& w) : rx_(w.subscribe()), changed_(rx_) {}
    NextChange(const NextChange&) = delete;
    NextChange& operator=(const NextChange&) = delete;
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
      return changed_.await_suspend(h, line);
    }
    void await_resume() { changed_.await_resume(); }

   private:
    Receiver rx_;
    ChangedAwaiter changed_;
  };

 private:
  mutable detail::CrossLock mutex_;
  T value_;
  std::uint64_t version_ = 0;
  bool closed_ = false;
  detail::CrossWaitList waiters_;
};

}  // namespace aio
