// The queue other threads post into (call_soon_threadsafe, run_on, a Channel waking a task):
// a bounded lock-free ring, many producers and the loop as the one consumer.
//
// A post between two loops on two cores is the cost of the cache lines it moves. With a lock
// and a vector behind it, a post moved the lock's line, the vector's, a "pending" flag's and
// back again for the loop's drain: about six transfers each way. Here a producer claims a cell
// by a CAS on the tail (which stays in its core's cache while it is the only producer), writes
// the cell and publishes it with the cell's sequence number (Vyukov's bounded queue); the loop
// reads the cell at its head and nothing else: one line each way.
//
// When the ring is full, posts go to an overflow vector under a lock, and keep going there
// until the loop has drained both (ring first, then the overflow), so each thread's posts run
// in the order it made them. Closing: a producer announces itself (`posters`) before it looks
// at `closed`, and close() waits until none is inside, so that once close() returns no post
// can land; the loop object may then be destroyed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "aio/detail/runnable.hpp"
#include "aio/detail/spin_lock.hpp"

namespace aio::detail {

class PostQueue {
 public:
  static constexpr std::size_t capacity = 1024;  // a power of two

  PostQueue() : cells_(std::make_unique<Cell[]>(capacity)) {
    for (std::size_t i = 0; i < capacity; ++i) {
      cells_[i].seq.store(i, std::memory_order_relaxed);
    }
  }
  PostQueue(const PostQueue&) = delete;
  PostQueue& operator=(const PostQueue&) = delete;

  // ---- producers (any thread) ----

  /// Before anything else: false if the queue is closed (or, for new work, refusing it). On
  /// true the caller pushes and then calls leave().
  bool enter(bool new_work) noexcept {
    posters_.fetch_add(1, std::memory_order_seq_cst);
    if (closed_.load(std::memory_order_seq_cst) ||
        (new_work && refusing_.load(std::memory_order_relaxed))) {
      leave();
      return false;
    }
    return true;
  }
  void leave() noexcept { posters_.fetch_sub(1, std::memory_order_release); }

  /// Between enter() and leave().
  void push(Runnable* r) {
    if (!overflowing_.load(std::memory_order_acquire) && try_push(r)) return;
    std::lock_guard lock(overflow_lock_);
    if (!overflowing_.load(std::memory_order_relaxed) && try_push(r)) return;  // drained since
    overflowing_.store(true, std::memory_order_relaxed);
    overflow_.push_back(r);
  }

  // ---- the loop ----

  /// Something was posted and not drained yet (a cheap look: the head cell and one flag).
  bool ready() const noexcept {
    const Cell& cell = cells_[head_ & (capacity - 1)];
    return cell.seq.load(std::memory_order_acquire) == head_ + 1 ||
           overflowing_.load(std::memory_order_acquire);
  }
  /// Takes everything posted so far, in order, into `out` (a ReadyQueue or a vector).
  template <class Out>
  void drain(Out& out) {
    while (pop_into(out)) {
    }
    if (!overflowing_.load(std::memory_order_acquire)) return;
    // The overflow holds posts made after the ring filled: first every cell claimed before
    // them (a producer may still be writing one), then the overflow.
    while (head_ != tail_.load(std::memory_order_acquire)) {
      if (!pop_into(out)) cpu_relax();
    }
    std::lock_guard lock(overflow_lock_);
    while (pop_into(out)) {
    }
    for (Runnable* r : overflow_) out.push(r);
    overflow_.clear();
    overflowing_.store(false, std::memory_order_release);
  }
  /// No post lands once this returns (those inside finish first).
  void close() noexcept {
    closed_.store(true, std::memory_order_seq_cst);
    wait_for_posters();
  }
  bool closed() const noexcept { return closed_.load(std::memory_order_relaxed); }
  /// Posts of new work fail from now on (a loop shutting down); replies still come in.
  void refuse_new_work() noexcept { refusing_.store(true, std::memory_order_relaxed); }
  bool refusing_new_work() const noexcept { return refusing_.load(std::memory_order_relaxed); }
  void wait_for_posters() const noexcept {
    while (posters_.load(std::memory_order_seq_cst) != 0) cpu_relax();
  }

 private:
  struct Cell {
    std::atomic<std::uint64_t> seq;
    Runnable* item = nullptr;
  };

  bool try_push(Runnable* r) noexcept {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & (capacity - 1)];
      const std::uint64_t seq = cell.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::int64_t>(seq - pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          cell.item = r;
          cell.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }
  template <class Out>
  bool pop_into(Out& out) {
    Cell& cell = cells_[head_ & (capacity - 1)];
    if (cell.seq.load(std::memory_order_acquire) != head_ + 1) return false;
    out.push(cell.item);
    cell.seq.store(head_ + capacity, std::memory_order_release);
    ++head_;
    return true;
  }

  // One cache line for what producers write, one for what the loop writes, one for what both
  // only read (as long as nothing overflows or closes): a post moves the cell's line and no
  // other.
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // producers'
  std::atomic<int> posters_{0};
  alignas(64) std::uint64_t head_ = 0;  // the loop's
  alignas(64) std::atomic<bool> overflowing_{false};
  std::atomic<bool> closed_{false};
  std::atomic<bool> refusing_{false};
  alignas(64) SpinLock overflow_lock_;
  std::vector<Runnable*> overflow_;
};

}  // namespace aio::detail
