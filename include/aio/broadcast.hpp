// aio/broadcast.hpp — Broadcast<T>: every receiver gets every value, across loops and threads.
//
// tokio's `broadcast` channel: a ring of the last `capacity` values; each receiver reads at
// its own pace from where it subscribed. send() never waits: a receiver that falls more than
// `capacity` values behind loses the oldest, and its next recv() raises aio::Lagged saying how
// many it missed (the one after gives the oldest value still held). Every member is
// thread-safe; values are copied to each receiver.
//
//   aio::Broadcast<Event> events(256);
//   auto rx = events.subscribe();          // sees what is sent from now on
//   events.send(e);                        // returns how many receivers there are
//   Event e = co_await rx.recv();          // Lagged if it fell behind; QueueShutDown once the
//                                          // broadcast is closed and it has read everything
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "aio/detail/cross_wait.hpp"
#include "aio/errors.hpp"

namespace aio {

template <class T>
class Broadcast {
 public:
  /// capacity >= 1 (std::invalid_argument otherwise).
  explicit Broadcast(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("Broadcast capacity must be at least 1");
    ring_ = std::make_unique<std::optional<T>[]>(capacity);
  }
  Broadcast(const Broadcast&) = delete;
  Broadcast& operator=(const Broadcast&) = delete;

  /// Appends `value` for every receiver (overwriting the oldest when full) and wakes those
  /// waiting; returns the number of receivers. QueueShutDown after close().
  std::size_t send(T value) {
    std::optional<T> overwritten;  // destroyed outside the lock
    std::size_t receivers = 0;
    detail::change_and_wake_all(mutex_, waiters_, [&] {
      if (closed_) throw QueueShutDown();
      std::optional<T>& slot = ring_[next_ % capacity_];
      overwritten = std::move(slot);
      slot.emplace(std::move(value));
      ++next_;
      receivers = receivers_;
    });
    return receivers;
  }
  /// No more values; receivers get QueueShutDown once they have read what is held.
  void close() {
    detail::change_and_wake_all(mutex_, waiters_, [&] { closed_ = true; });
  }
  bool is_closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  std::size_t receiver_count() const {
    std::lock_guard lock(mutex_);
    return receivers_;
  }
  std::size_t capacity() const noexcept { return capacity_; }

  class RecvAwaiter;

  class Receiver {
   public:
    Receiver(Receiver&& other) noexcept
        : b_(std::exchange(other.b_, nullptr)), next_(other.next_) {}
    Receiver& operator=(Receiver&& other) noexcept {
      if (this != &other) {
        unsubscribe();
        b_ = std::exchange(other.b_, nullptr);
        next_ = other.next_;
      }
      return *this;
    }
    ~Receiver() { unsubscribe(); }

    /// The next value; waits for one. Lagged if values were lost; QueueShutDown once closed
    /// and read to the end.
    RecvAwaiter recv() { return RecvAwaiter(*this); }
    /// The next value if there is one (Lagged, QueueShutDown as recv()).
    std::optional<T> try_recv() {
      std::lock_guard lock(b_->mutex_);
      if (next_ == b_->next_) {
        if (b_->closed_) throw QueueShutDown();
        return std::nullopt;
      }
      return take_locked();
    }
    /// From a plain thread: recv(), blocking it.
    T recv_blocking() {
      std::unique_lock lock(b_->mutex_);
      while (next_ == b_->next_) {
        if (b_->closed_) throw QueueShutDown();
        detail::block_in(b_->waiters_, lock);
      }
      return *take_locked();
    }

   private:
    friend class Broadcast;
    friend class RecvAwaiter;
    Receiver(Broadcast& b, std::uint64_t next) noexcept : b_(&b), next_(next) {}
    void unsubscribe() noexcept {
      if (!b_) return;
      std::lock_guard lock(b_->mutex_);
      --b_->receivers_;
      b_ = nullptr;
    }
    // Under the lock, with a value unread: the next one, or Lagged.
    std::optional<T> take_locked() {
      const std::uint64_t oldest = b_->next_ > b_->capacity_ ? b_->next_ - b_->capacity_ : 0;
      if (next_ < oldest) {
        const std::uint64_t missed = oldest - next_;
        next_ = oldest;
        throw Lagged(missed);
      }
      std::optional<T> value(*b_->ring_[next_ % b_->capacity_]);
      ++next_;
      return value;
    }
    Broadcast* b_;
    std::uint64_t next_;
  };

  /// A receiver of the values sent from now on.
  Receiver subscribe() {
    std::lock_guard lock(mutex_);
    ++receivers_;
    return Receiver(*this, next_);
  }

  class RecvAwaiter {
   public:
    explicit RecvAwaiter(Receiver& rx)
        : rx_(&rx), wait_(rx.b_->mutex_, rx.b_->waiters_, "Broadcast.recv()") {}
    RecvAwaiter(RecvAwaiter&& other)
        : rx_(other.rx_), wait_(rx_->b_->mutex_, rx_->b_->waiters_, "Broadcast.recv()") {}

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
      detail::note_await_line(h, line);
      Broadcast& b = *rx_->b_;
      std::unique_lock lock(b.mutex_);
      if (rx_->next_ != b.next_ || b.closed_) {
        settle();
        return false;
      }
      wait_.wait(h, lock);
      return true;
    }
    T await_resume() {
      if (!settled_) {
        wait_.check();
        std::lock_guard lock(rx_->b_->mutex_);
        settle();
      }
      if (error_) std::rethrow_exception(error_);
      return std::move(*value_);
    }

   private:
    // Under the lock: the next value, or what stands in its way.
    void settle() {
      settled_ = true;
      if (rx_->next_ == rx_->b_->next_) {
        error_ = std::make_exception_ptr(QueueShutDown());  // woken by close()
        return;
      }
      try {
        value_ = rx_->take_locked();
      } catch (...) {
        error_ = std::current_exception();
      }
    }
    Receiver* rx_;
    detail::CrossWait wait_;
    std::optional<T> value_;
    std::exception_ptr error_;
    bool settled_ = false;
  };

 private:
  mutable detail::CrossLock mutex_;
  std::unique_ptr<std::optional<T>[]> ring_;
  std::size_t capacity_;
  std::uint64_t next_ = 0;  // the sequence number of the next value sent
  std::size_t receivers_ = 0;
  bool closed_ = false;
  detail::CrossWaitList waiters_;
};

}  // namespace aio
