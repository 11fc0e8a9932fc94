// aio/queues.hpp — asyncio.Queue, LifoQueue, PriorityQueue (3.13, with shutdown()).
//
// put() waits while a bounded queue is full, get() while it is empty; each wakes the first
// waiter of the other side, FIFO, and a cancelled waiter takes nothing (a woken one passes the
// wake-up on). task_done()/join() count unfinished items. shutdown() makes put() raise
// QueueShutDown at once and get() once the queue is empty; shutdown(true) also drops the items.
// maxsize <= 0 means unbounded, as in asyncio. Loop-bound, not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <queue>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/wait_queue.hpp"
#include "aio/errors.hpp"
#include "aio/locks.hpp"

namespace aio {

namespace detail {

/// The queue logic; `Storage` holds the items (FIFO, LIFO or a heap).
template <class T, class Storage>
class BasicQueue {
 public:
  explicit BasicQueue(std::int64_t maxsize = 0) : maxsize_(maxsize) { finished_.set(); }
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  std::size_t qsize() const noexcept { return items_.size(); }
  std::int64_t maxsize() const noexcept { return maxsize_; }
  bool empty() const noexcept { return items_.empty(); }
  bool full() const noexcept {
    return maxsize_ > 0 && static_cast<std::int64_t>(items_.size()) >= maxsize_;
  }

  /// Waits for room, then puts the item; QueueShutDown after shutdown().
  Coro<void> put(T item) {
    while (full()) {
      if (shutdown_) throw QueueShutDown();
      WaitIn w(putters_);
      std::exception_ptr error = co_await w;
      if (error) {
        // Woken by a get, but cancelled: pass the room on.
        if (w.woken() && !full()) putters_.wake_one();
        std::rethrow_exception(error);
      }
    }
    put_nowait(std::move(item));
  }

  /// Waits for an item and takes it; QueueShutDown once shut down and empty.
  Coro<T> get() {
    while (empty()) {
      if (shutdown_) throw QueueShutDown();
      WaitIn w(getters_);
      std::exception_ptr error = co_await w;
      if (error) {
        // Woken by a put, but cancelled: pass the item on.
        if (w.woken() && !empty()) getters_.wake_one();
        std::rethrow_exception(error);
      }
    }
    co_return get_nowait();
  }

  /// QueueFull when full, QueueShutDown after shutdown().
  void put_nowait(T item) {
    if (shutdown_) throw QueueShutDown();
    if (full()) throw QueueFull();
    items_.push(std::move(item));
    ++unfinished_;
    finished_.clear();
    getters_.wake_one();
  }

  /// QueueEmpty when empty (QueueShutDown when also shut down).
  T get_nowait() {
    if (empty()) {
      if (shutdown_) throw QueueShutDown();
      throw QueueEmpty();
    }
    T item = items_.take();
    putters_.wake_one();
    return item;
  }

  /// Marks one got item as processed; std::invalid_argument when called too many times.
  void task_done() {
    if (unfinished_ <= 0) throw std::invalid_argument("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }

  /// Waits until every item put has been marked done.
  Coro<void> join() {
    if (unfinished_ > 0) co_await finished_.wait();
  }

  /// asyncio 3.13 Queue.shutdown(immediate).
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      while (!empty()) {
        items_.take();
        if (unfinished_ > 0) --unfinished_;
      }
      if (unfinished_ == 0) finished_.set();
    }
    // Everyone blocked re-checks, and sees the shutdown.
    getters_.wake_all();
    putters_.wake_all();
  }

 private:
  Storage items_;
  WaitQueue getters_{"Queue.get()"};  // each put wakes the first, as asyncio's _wakeup_next does
  WaitQueue putters_{"Queue.put()"};
  std::int64_t maxsize_;
  std::int64_t unfinished_ = 0;
  Event finished_;
  bool shutdown_ = false;
};

/// A FIFO ring of T that grows by doubling: a put and a get in steady state allocate nothing
/// (std::deque allocates and frees a block every few hundred items). An emptied ring larger
/// than `keep` slots gives its memory back.
template <class T>
class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() { release(); }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  void push(T v) {
    if (size_ == capacity_) grow();
    std::construct_at(slots_ + ((head_ + size_) & (capacity_ - 1)), std::move(v));
    ++size_;
  }
  T take() {
    T* p = slots_ + head_;
    T v = std::move(*p);
    std::destroy_at(p);
    head_ = (head_ + 1) & (capacity_ - 1);
    if (--size_ == 0 && capacity_ > keep) release();
    return v;
  }

 private:
  static constexpr std::size_t keep = 4096;
  void grow() {
    const std::size_t capacity = capacity_ ? 2 * capacity_ : 8;
    T* slots = std::allocator<T>().allocate(capacity);
    std::size_t moved = 0;
    try {
      for (; moved < size_; ++moved) {
        std::construct_at(slots + moved,
                          std::move_if_noexcept(slots_[(head_ + moved) & (capacity_ - 1)]));
      }
    } catch (...) {
      std::destroy_n(slots, moved);
      std::allocator<T>().deallocate(slots, capacity);
      throw;
    }
    const std::size_t size = size_;
    release();
    slots_ = slots;
    capacity_ = capacity;
    size_ = size;
  }
  void release() noexcept {
    for (; size_ > 0; --size_, head_ = (head_ + 1) & (capacity_ - 1))
      std::destroy_at(slots_ + head_);
    if (slots_) std::allocator<T>().deallocate(slots_, capacity_);
    slots_ = nullptr;
    capacity_ = 0;
    head_ = 0;
  }

  T* slots_ = nullptr;
  std::size_t capacity_ = 0;  // a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

template <class T>
struct FifoItems {
  Ring<T> items;
  std::size_t size() const noexcept { return items.size(); }
  bool empty() const noexcept { return items.empty(); }
  void push(T v) { items.push(std::move(v)); }
  T take() { return items.take(); }
};

template <class T>
struct LifoItems {
  std::vector<T> items;
  std::size_t size() const noexcept { return items.size(); }
  bool empty() const noexcept { return items.empty(); }
  void push(T v) { items.push_back(std::move(v)); }
  T take() {
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
};

template <class T, class Compare>
struct PriorityItems {
  // A min-heap (std::push_heap builds a max-heap: the comparison is reversed).
  std::vector<T> items;
  Compare less;
  std::size_t size() const noexcept { return items.size(); }
  bool empty() const noexcept { return items.empty(); }
  void push(T v) {
    items.push_back(std::move(v));
    std::push_heap(items.begin(), items.end(),
                   [this](const T& a, const T& b) { return less(b, a); });
  }
  T take() {
    std::pop_heap(items.begin(), items.end(),
                  [this](const T& a, const T& b) { return less(b, a); });
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
};

}  // namespace detail

/// asyncio.Queue: first in, first out. What it offers (LifoQueue and PriorityQueue too):
///
///   Queue<T> q(maxsize);           maxsize <= 0 (the default): unbounded
///   co_await q.put(item);          waits while full; QueueShutDown after shutdown()
///   T item = co_await q.get();     waits while empty; QueueShutDown once shut down and empty
///   q.put_nowait(item);            QueueFull when full, QueueShutDown after shutdown()
///   T item = q.get_nowait();       QueueEmpty when empty (QueueShutDown when also shut down)
///   q.task_done();                 one got item processed; std::invalid_argument if too many
///   co_await q.join();             until every item put has been marked done
///   q.shutdown(immediate);         asyncio 3.13: immediate also drops the items
///   q.qsize(), q.maxsize(), q.empty(), q.full()
///
/// The methods are detail::BasicQueue's, shared by the three kinds of queue.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoItems<T>> {
 public:
  using detail::BasicQueue<T, detail::FifoItems<T>>::BasicQueue;
};

/// asyncio.LifoQueue: last in, first out (the methods are Queue's).
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoItems<T>> {
 public:
  using detail::BasicQueue<T, detail::LifoItems<T>>::BasicQueue;
};

/// asyncio.PriorityQueue: smallest first, by Compare (the methods are Queue's).
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::PriorityItems<T, Compare>> {
 public:
  using detail::BasicQueue<T, detail::PriorityItems<T, Compare>>::BasicQueue;
};

}  // namespace aio
