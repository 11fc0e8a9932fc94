// aio/channel.hpp — Channel<T>: a bounded queue between loops and threads.
//
// asyncio.Queue is for the tasks of one loop. A Channel is the same queue for tasks on any
// loop and for plain threads: multi-producer, multi-consumer, FIFO, bounded (Go's buffered
// `chan`, tokio's mpsc with several receivers). Every member is thread-safe.
//
//   aio::Channel<int> ch(1024);
//   co_await ch.send(42);                 // waits while full            (Queue.put)
//   int v = co_await ch.recv();           // waits while empty           (Queue.get)
//   ch.try_send(v); ch.try_recv();        // never wait: false / nullopt (put_nowait, get_nowait)
//   ch.send_blocking(v); ch.recv_blocking();   // from a plain thread (blocks it)
//   ch.close();                           // Queue.shutdown(): send raises QueueShutDown at
//                                         // once, recv once the channel is drained;
//                                         // close(true) also drops the items
//   while (true) {                        // receive until closed
//     std::optional<int> v = co_await ch.next();
//     if (!v) break;
//   }
//
// A waiting task is woken on its own loop (one post, which wakes that loop only if it
// sleeps). A waiting receiver is handed its item directly (it does not touch the channel again
// when it runs: across cores, fewer cache lines move), and a waiting sender has its room set
// aside; a waiter cancelled after its wake-up takes nothing (the item goes back to the front)
// and passes it on, as with asyncio.Queue. The Channel must outlive every call on it, and the
// loops of the tasks waiting on it must outlive their wait.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/detail/cross_wait.hpp"
#include "aio/errors.hpp"

namespace aio {

template <class T>
class Channel {
 public:
  /// capacity >= 1 (std::invalid_argument otherwise).
  explicit Channel(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("Channel capacity must be at least 1");
    ring_ = std::make_unique<std::optional<T>[]>(capacity);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  class SendAwaiter;
  class RecvAwaiter;
  template <bool Optional>
  class ReceiveAwaiter;

  /// Waits for room, then queues `value`; QueueShutDown once closed.
  SendAwaiter send(T value) { return SendAwaiter(*this, std::move(value)); }
  /// Waits for an item and takes it; QueueShutDown once closed and drained.
  ReceiveAwaiter<false> recv() { return ReceiveAwaiter<false>(*this); }
  /// recv(), but std::nullopt instead of QueueShutDown: the loop of `async for`.
  ReceiveAwaiter<true> next() { return ReceiveAwaiter<true>(*this); }

  /// Queues `value` if there is room (moving from it only then); QueueShutDown once closed.
  bool try_send(T&& value) { return try_send_impl(value); }
  bool try_send(const T& value) {
    T copy(value);
    return try_send_impl(copy);
  }
  /// An item if there is one; std::nullopt when empty; QueueShutDown once closed and drained.
  std::optional<T> try_recv() {
    std::unique_lock lock(mutex_);
    if (available() == 0) {
      if (closed_) throw QueueShutDown();
      return std::nullopt;
    }
    return take_locked(lock);
  }

  /// From a plain thread (it blocks; never call these from a loop's thread).
  void send_blocking(T value) {
    std::unique_lock lock(mutex_);
    bool granted = false;
    for (;;) {
      if (closed_) {
        if (granted) --room_set_aside_;
        throw QueueShutDown();
      }
      if (granted) {
        --room_set_aside_;
        break;
      }
      if (room() > 0) break;
      granted = detail::block_in(senders_, lock);
    }
    put_locked(lock, value);
  }
  T recv_blocking() {
    std::unique_lock lock(mutex_);
    std::optional<T> handed;
    for (;;) {
      if (available() > 0) return *take_locked(lock);
      if (closed_) throw QueueShutDown();
      detail::block_in(receivers_, lock, &handed);
      if (handed) return std::move(*handed);
    }
  }

  /// asyncio's Queue.shutdown(immediate): no more sends; with `immediate`, the items are
  /// dropped too. Everyone waiting wakes (and sees it). Idempotent.
  void close(bool immediate = false) {
    std::vector<detail::CrossWake> wakes;
    std::vector<T> dropped;  // destroyed outside the lock
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      if (immediate) {
        for (T& item : returned_) dropped.push_back(std::move(item));
        returned_.clear();
        while (count_ > 0) {
          dropped.push_back(std::move(*ring_[head_]));
          ring_[head_].reset();
          head_ = (head_ + 1) % capacity_;
          --count_;
        }
      }
      senders_.wake_all(wakes);
      receivers_.wake_all(wakes);
    }
    for (const auto& w : wakes) w();
  }

  bool is_closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return count_ + returned_.size();
  }
  bool empty() const { return size() == 0; }
  bool full() const { return size() >= capacity_; }
  std::size_t capacity() const noexcept { return capacity_; }

  class SendAwaiter {
   public:
    SendAwaiter(Channel& ch, T value)
        : ch_(&ch), value_(std::move(value)), wait_(ch.mutex_, ch.senders_, "Channel.send()") {}
    // Moved only before it is awaited (create_task() of it).
    SendAwaiter(SendAwaiter&& other)
        : ch_(other.ch_),
          value_(std::move(other.value_)),
          wait_(ch_->mutex_, ch_->senders_, "Channel.send()") {}

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
      detail::note_await_line(h, line);
      std::unique_lock lock(ch_->mutex_);
      if (ch_->closed_) throw QueueShutDown();
      if (ch_->room() > 0) {
        ch_->put_locked(lock, value_);
        sent_ = true;
        return false;
      }
      wait_.wait(h, lock);
      return true;
    }
    void await_resume() {
      if (sent_) return;
      std::unique_lock lock(ch_->mutex_);
      if (wait_.granted()) --ch_->room_set_aside_;
      try {
        wait_.check();
      } catch (...) {  // cancelled: the room set aside goes to the next sender
        if (wait_.granted()) ch_->pass_room_on(lock);
        throw;
      }
      if (ch_->closed_) throw QueueShutDown();
      ch_->put_locked(lock, value_);
    }

   private:
    Channel* ch_;
    T value_;
    detail::CrossWait wait_;
    bool sent_ = false;
  };

  /// recv() (Optional: next()).
  template <bool Optional>
  class ReceiveAwaiter {
   public:
    using Result = std::conditional_t<Optional, std::optional<T>, T>;
    explicit ReceiveAwaiter(Channel& ch)
        : ch_(&ch), wait_(ch.mutex_, ch.receivers_, "Channel.recv()") {}
    ReceiveAwaiter(ReceiveAwaiter&& other)
        : ch_(other.ch_), wait_(ch_->mutex_, ch_->receivers_, "Channel.recv()") {}

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
      detail::note_await_line(h, line);
      std::unique_lock lock(ch_->mutex_);
      if (ch_->available() > 0) {
        item_ = ch_->take_locked(lock);
        return false;
      }
      if (ch_->closed_) {
        closed_ = true;
        return false;
      }
      wait_.set_slot(&item_);  // a sender hands the item over here
      suspended_ = true;
      wait_.wait(h, lock);
      return true;
    }
    Result await_resume() {
      if (suspended_) {
        try {
          wait_.check();
        } catch (...) {  // cancelled after it was handed an item: the item goes back
          if (item_) ch_->give_back(std::move(*item_));
          throw;
        }
        if (!item_) closed_ = true;  // woken by close(), with nothing for it
      }
      if (closed_) {
        if constexpr (Optional) {
          return std::nullopt;
        } else {
          throw QueueShutDown();
        }
      }
      if constexpr (Optional) {
        return std::move(item_);
      } else {
        return std::move(*item_);
      }
    }

   private:
    Channel* ch_;
    detail::CrossWait wait_;
    std::optional<T> item_;
    bool closed_ = false;
    bool suspended_ = false;
  };

 private:
  // Under the mutex: what a newcomer may take or fill (woken waiters' shares set aside).
  std::size_t available() const noexcept { return count_ + returned_.size(); }
  std::size_t room() const noexcept {
    const std::size_t used = count_ + returned_.size() + room_set_aside_;
    return used < capacity_ ? capacity_ - used : 0;
  }

  bool try_send_impl(T& value) {
    std::unique_lock lock(mutex_);
    if (closed_) throw QueueShutDown();
    if (room() == 0) return false;
    put_locked(lock, value);
    return true;
  }
  // Under the lock (released here): hands the value to the first waiting receiver (a
  // receiver waits only while the channel is empty), or queues it.
  void put_locked(std::unique_lock<detail::CrossLock>& lock, T& value) {
    if (!receivers_.empty()) {
      static_cast<std::optional<T>*>(receivers_.front().slot)->emplace(std::move(value));
      const detail::CrossWake wake = receivers_.wake_one();
      lock.unlock();
      wake();
      return;
    }
    ring_[(head_ + count_) % capacity_].emplace(std::move(value));
    ++count_;
    lock.unlock();
  }
  // Under the lock (released here): the oldest item; a waiting sender gets the room set aside.
  std::optional<T> take_locked(std::unique_lock<detail::CrossLock>& lock) {
    std::optional<T> item;
    if (!returned_.empty()) {
      item.emplace(std::move(returned_.back()));
      returned_.pop_back();
    } else {
      item.emplace(std::move(*ring_[head_]));
      ring_[head_].reset();
      head_ = (head_ + 1) % capacity_;
      --count_;
    }
    pass_room_on(lock);
    return item;
  }
  // A receiver cancelled after it was handed `item`: it goes back to the front (or to the next
  // waiting receiver). It may not fit any more (senders filled the room since): the few such
  // items wait in returned_, which takers empty first.
  void give_back(T item) {
    std::unique_lock lock(mutex_);
    if (!receivers_.empty()) {
      put_locked(lock, item);
      return;
    }
    if (count_ < capacity_ && returned_.empty()) {
      head_ = (head_ + capacity_ - 1) % capacity_;
      ring_[head_].emplace(std::move(item));
      ++count_;
    } else {
      returned_.push_back(std::move(item));
    }
  }
  void pass_room_on(std::unique_lock<detail::CrossLock>& lock) {
    detail::CrossWake wake;
    if (room() > 0 && !senders_.empty() && !closed_) {
      ++room_set_aside_;
      wake = senders_.wake_one();
    }
    lock.unlock();
    wake();
  }

  mutable detail::CrossLock mutex_;
  std::unique_ptr<std::optional<T>[]> ring_;
  std::size_t capacity_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t room_set_aside_ = 0;  // for woken senders that have not run yet
  std::vector<T> returned_;         // given back by cancelled receivers; the newest last
  bool closed_ = false;
  detail::CrossWaitList senders_;
  detail::CrossWaitList receivers_;
};

}  // namespace aio
