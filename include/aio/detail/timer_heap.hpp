// aio/detail/timer_heap.hpp — the loop's timers: a 4-ary min-heap on (deadline, sequence).
//
// The sequence number makes equal deadlines run in the order they were scheduled (FIFO). The
// deadlines sit in the heap array itself (16 bytes an entry), so sifting compares without
// touching the timer nodes, which live inside coroutine frames all over memory; only equal
// deadlines read the nodes' sequence numbers. Each node knows its slot, so a cancelled timer
// leaves the heap at once in O(log n) (a sleep allocates nothing, so the heap must never hold a
// node its frame has destroyed). Four children per node halve the depth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "aio/detail/runnable.hpp"

namespace aio::detail {

struct TimerNode : Runnable {
  static constexpr std::uint32_t not_queued = static_cast<std::uint32_t>(-1);
  std::uint32_t heap_index = not_queued;  // its slot in the heap
  // Set by push(): orders equal deadlines. It wraps, and is compared as a serial number, so 32
  // bits keep equal deadlines FIFO between any two timers scheduled fewer than 2^31 timers
  // apart (asyncio promises no order at all there); a node stays 16 bytes.
  std::uint32_t sequence = 0;

  bool in_heap() const noexcept { return heap_index != not_queued; }

 protected:
  ~TimerNode() = default;
};

class TimerHeap {
 public:
  /// `first_sequence` lets a test start just before the sequence numbers wrap.
  explicit TimerHeap(std::uint32_t first_sequence = 0) noexcept : next_sequence_(first_sequence) {}

  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }
  double top_when() const noexcept { return entries_.front().when; }
  /// The deadline of a queued node.
  double when_of(const TimerNode& node) const noexcept { return entries_[node.heap_index].when; }

  /// Schedules `node` at `when` (it must not be queued already).
  void push(TimerNode* node, double when);
  TimerNode* pop();
  void remove(TimerNode* node);
  /// Empties the heap, leaving every node marked not queued; returns the nodes.
  std::vector<TimerNode*> release_all();

 private:
  struct Entry {
    double when;
    TimerNode* node;
  };
  static constexpr std::size_t arity = 4;
  static bool earlier(const Entry& a, const Entry& b) noexcept {
    return a.when < b.when ||
           (a.when == b.when && static_cast<std::int32_t>(a.node->sequence - b.node->sequence) < 0);
  }
  void place(std::size_t i, const Entry& e) noexcept {
    entries_[i] = e;
    e.node->heap_index = static_cast<std::uint32_t>(i);
  }
  void sift_up(std::size_t i, Entry e) noexcept;
  void sift_down(std::size_t i, Entry e) noexcept;

  std::vector<Entry> entries_;
  std::uint32_t next_sequence_;
};

}  // namespace aio::detail
