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
// The buffer is a lock-free ring (Vyukov's bounded queue): while no one waits, a send and a
// receive each claim a cell with one CAS and move nothing but the cell's cache line between
// the cores. A lock guards only the lists of waiters. A task (on any loop) or a thread that
// must wait is handed what it waited for by the other side: a waiting receiver its item, a
// waiting sender's value is put in as room frees up; then it is woken on its own loop (one
// post, which wakes that loop only if it sleeps). Each side, after its fast path, looks
// whether anyone waits (a flag that changes only when a list does) and serves them under the
// lock; a waiter enlists first and then looks at the ring once more, so that one of the two
// always sees the other. A receiver cancelled after it was handed an item gives it back, to
// the front (asyncio.Queue's "a cancelled getter takes nothing"); a sender cancelled after
// its value went in has sent it, and sees the CancelledError at its next await. The Channel must
// outlive every call on it, and the loops of the tasks waiting on it must outlive their wait.
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
    cells_ = std::make_unique<Cell[]>(capacity);
    for (std::size_t i = 0; i < capacity; ++i) {
      cells_[i].seq.store(2 * i, std::memory_order_relaxed);
    }
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  class SendAwaiter;
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
    std::optional<T> item;
    if (take(item)) return item;
    if (closed_.load(std::memory_order_acquire) && drained()) throw QueueShutDown();
    return std::nullopt;
  }

  /// From a plain thread (it blocks; never call these from a loop's thread).
  void send_blocking(T value) {
    for (;;) {
      if (closed_.load(std::memory_order_acquire)) throw QueueShutDown();
      if (push(value)) {
        after_put();
        return;
      }
      std::unique_lock lock(mutex_);
      detail::CrossWaiter node;
      node.slot = &value;
      senders_.push(&node);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      const bool closed = closed_.load(std::memory_order_relaxed);
      if (closed || push(value)) {
        senders_.unlink(&node);
        lock.unlock();
        if (closed) throw QueueShutDown();
        after_put();
        return;
      }
      detail::sleep_until_woken(node, lock);
      if (node.granted) return;  // a receiver put the value in
      // woken by close(): the loop sees it
    }
  }
  T recv_blocking() {
    for (;;) {
      std::optional<T> item;
      if (take(item)) return std::move(*item);
      if (closed_.load(std::memory_order_acquire) && drained()) throw QueueShutDown();
      std::unique_lock lock(mutex_);
      detail::CrossWaiter node;
      node.slot = &item;
      receivers_.push(&node);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (take_locked(item) || (closed_.load(std::memory_order_relaxed) && drained())) {
        receivers_.unlink(&node);
        lock.unlock();
        if (!item) throw QueueShutDown();
        after_take();
        return std::move(*item);
      }
      detail::sleep_until_woken(node, lock);
      if (item) return std::move(*item);  // handed over
    }
  }

  /// asyncio's Queue.shutdown(immediate): no more sends; with `immediate`, the items are
  /// dropped too. Everyone waiting wakes (and sees it). Idempotent.
  void close(bool immediate = false) {
    std::vector<detail::CrossWake> wakes;
    std::vector<std::optional<T>> dropped;  // destroyed outside the lock
    {
      std::lock_guard lock(mutex_);
      closed_.store(true, std::memory_order_seq_cst);
      if (immediate) {
        std::optional<T> item;
        while (take_locked(item)) dropped.push_back(std::move(item));
      }
      senders_.wake_all(wakes);
      receivers_.wake_all(wakes);
    }
    for (const auto& w : wakes) w();
  }

  bool is_closed() const { return closed_.load(std::memory_order_acquire); }
  std::size_t size() const {
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    return static_cast<std::size_t>(tail > head ? tail - head : 0) +
           returned_count_.load(std::memory_order_acquire);
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
      Channel& ch = *ch_;
      if (ch.closed_.load(std::memory_order_acquire)) throw QueueShutDown();
      if (ch.push(value_)) {
        ch.after_put();
        return false;
      }
      std::unique_lock lock(ch.mutex_);
      wait_.set_slot(&value_);  // a receiver puts it in as room frees up
      wait_.enlist();
      std::atomic_thread_fence(std::memory_order_seq_cst);
      const bool closed = ch.closed_.load(std::memory_order_relaxed);
      if (closed || ch.push(value_)) {
        wait_.delist();
        lock.unlock();
        if (closed) throw QueueShutDown();
        ch.after_put();
        return false;
      }
      suspended_ = true;
      wait_.suspend(h, lock);
      return true;
    }
    void await_resume() {
      if (!suspended_) return;
      if (wait_.granted()) return;  // sent (a cancellation comes at the next await)
      wait_.check();                // cancelled while waiting: nothing was sent
      throw QueueShutDown();        // woken by close()
    }

   private:
    Channel* ch_;
    T value_;
    detail::CrossWait wait_;
    bool suspended_ = false;
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
      Channel& ch = *ch_;
      if (ch.take(item_)) return false;
      std::unique_lock lock(ch.mutex_);
      wait_.set_slot(&item_);  // a sender hands the item over here
      wait_.enlist();
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (ch.take_locked(item_) || (ch.closed_.load(std::memory_order_relaxed) && ch.drained())) {
        wait_.delist();
        lock.unlock();
        if (item_) ch.after_take();
        return false;
      }
      suspended_ = true;
      wait_.suspend(h, lock);
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
        if (!item_) {  // woken by close(): what is left is still received
          if (ch_->take(item_)) ch_->after_take();
        }
      }
      if (!item_) {
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
    bool suspended_ = false;
  };

 private:
  // Vyukov's sequence numbers, doubled so that a ring of one cell works too: a cell is free for
  // the send at position p when seq == 2p, holds its item when seq == 2p + 1.
  struct Cell {
    std::atomic<std::uint64_t> seq;
    std::optional<T> value;
  };

  // ---- the ring (lock-free) ----

  bool push(T& value) {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos % capacity_];
      const std::uint64_t seq = cell.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::int64_t>(seq - 2 * pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          cell.value.emplace(std::move(value));
          cell.seq.store(2 * pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }
  bool pop(std::optional<T>& out) {
    std::uint64_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos % capacity_];
      const std::uint64_t seq = cell.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::int64_t>(seq - (2 * pos + 1));
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          out.emplace(std::move(*cell.value));
          cell.value.reset();
          cell.seq.store(2 * (pos + capacity_), std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // empty
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }
  // Nothing in the ring, nothing given back, no cell being written.
  bool drained() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire) &&
           returned_count_.load(std::memory_order_acquire) == 0;
  }

  // ---- taking and putting, and serving the waiters ----

  // Takes the oldest item: one given back first (rare, under the lock), else the ring.
  bool take(std::optional<T>& out) {
    if (returned_count_.load(std::memory_order_acquire) != 0) {
      std::unique_lock lock(mutex_);
      const bool got = take_locked(out);
      lock.unlock();
      if (got) after_take();
      return got;
    }
    if (!pop(out)) return false;
    after_take();
    return true;
  }
  // Under the lock.
  bool take_locked(std::optional<T>& out) {
    if (!returned_.empty()) {
      out.emplace(std::move(returned_.back()));
      returned_.pop_back();
      returned_count_.store(returned_.size(), std::memory_order_release);
      return true;
    }
    return pop(out);
  }
  bool try_send_impl(T& value) {
    if (closed_.load(std::memory_order_acquire)) throw QueueShutDown();
    if (!push(value)) return false;
    after_put();
    return true;
  }
  // An item went in: a receiver that waits is handed it (it found the ring empty).
  void after_put() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (receivers_.has_waiters()) feed_receivers();
  }
  // Room came free: a sender that waits has its value put in.
  void after_take() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (senders_.has_waiters()) feed_senders();
  }
  void feed_receivers() {
    std::vector<detail::CrossWake> wakes;
    {
      std::lock_guard lock(mutex_);
      while (!receivers_.empty()) {
        auto* slot = static_cast<std::optional<T>*>(receivers_.front().slot);
        if (!take_locked(*slot)) break;
        wakes.push_back(receivers_.wake_one());
      }
    }
    for (const auto& w : wakes) w();
    if (!wakes.empty()) after_take();  // room came free
  }
  void feed_senders() {
    std::vector<detail::CrossWake> wakes;
    {
      std::lock_guard lock(mutex_);
      while (!senders_.empty() && !closed_.load(std::memory_order_relaxed)) {
        if (!push(*static_cast<T*>(senders_.front().slot))) break;
        wakes.push_back(senders_.wake_one());
      }
    }
    for (const auto& w : wakes) w();
    if (!wakes.empty()) after_put();  // items came in
  }
  // A receiver cancelled after it was handed `item`: back to the front (to a waiting receiver
  // if there is one). Kept aside from the ring, which may have filled since.
  void give_back(T item) {
    {
      std::lock_guard lock(mutex_);
      returned_.push_back(std::move(item));
      returned_count_.store(returned_.size(), std::memory_order_release);
    }
    after_put();
  }

  std::unique_ptr<Cell[]> cells_;
  std::size_t capacity_;
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // senders'
  alignas(64) std::atomic<std::uint64_t> head_{0};  // receivers'
  alignas(64) mutable detail::CrossLock mutex_;     // the waiters, and what was given back
  detail::CrossWaitList senders_;
  detail::CrossWaitList receivers_;
  std::atomic<bool> closed_{false};
  std::atomic<std::size_t> returned_count_{0};
  std::vector<T> returned_;  // newest last, taken first
};

}  // namespace aio
