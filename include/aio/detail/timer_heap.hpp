// aio/detail/timer_heap.hpp — the loop's timers: a binary min-heap on (deadline, sequence).
//
// The sequence number makes equal deadlines run in the order they were scheduled (FIFO).
// Each node knows its slot, so a cancelled timer leaves the heap at once in O(log n): timer
// nodes live inside coroutine frames (a sleep allocates nothing), so the heap must never hold
// a node its owner has destroyed. Insert and remove are O(log n); the earliest is O(1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "aio/detail/runnable.hpp"

namespace aio::detail {

struct TimerNode : Runnable {
  static constexpr std::uint32_t not_queued = static_cast<std::uint32_t>(-1);
  std::uint32_t heap_index = not_queued;  // first: fits in the Runnable's tail padding
  double when = 0;
  std::uint64_t sequence = 0;

  bool in_heap() const noexcept { return heap_index != not_queued; }

 protected:
  ~TimerNode() = default;
};

class TimerHeap {
 public:
  bool empty() const noexcept { return nodes_.empty(); }
  std::size_t size() const noexcept { return nodes_.size(); }
  TimerNode* top() const noexcept { return nodes_.front(); }

  void push(TimerNode* node);
  TimerNode* pop();
  void remove(TimerNode* node);
  /// Empties the heap, leaving every node marked not queued; returns the nodes.
  std::vector<TimerNode*> release_all();

 private:
  static bool earlier(const TimerNode* a, const TimerNode* b) noexcept {
    return a->when < b->when || (a->when == b->when && a->sequence < b->sequence);
  }
  void place(std::size_t i, TimerNode* node) noexcept {
    nodes_[i] = node;
    node->heap_index = static_cast<std::uint32_t>(i);
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;

  std::vector<TimerNode*> nodes_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace aio::detail
