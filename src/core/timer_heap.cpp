// The timer heap: a 4-ary min-heap of (deadline, node); nodes remember their slot and sequence.
#include "aio/detail/timer_heap.hpp"

#include <utility>

namespace aio::detail {

void TimerHeap::push(TimerNode* node, double when) {
  node->sequence = next_sequence_++;
  entries_.push_back({});
  sift_up(entries_.size() - 1, Entry{when, node});
}

TimerNode* TimerHeap::pop() {
  TimerNode* top = entries_.front().node;
  remove(top);
  return top;
}

void TimerHeap::remove(TimerNode* node) {
  const std::size_t i = node->heap_index;
  node->heap_index = TimerNode::not_queued;
  const Entry last = entries_.back();
  entries_.pop_back();
  if (i == entries_.size()) return;  // it was the last entry
  if (i > 0 && earlier(last, entries_[(i - 1) / arity])) {
    sift_up(i, last);
  } else {
    sift_down(i, last);
  }
}

std::vector<TimerNode*> TimerHeap::release_all() {
  std::vector<TimerNode*> all;
  all.reserve(entries_.size());
  for (const Entry& e : entries_) {
    e.node->heap_index = TimerNode::not_queued;
    all.push_back(e.node);
  }
  entries_.clear();
  return all;
}

// Moves the hole at `i` up until `e` fits there.
void TimerHeap::sift_up(std::size_t i, Entry e) noexcept {
  while (i > 0) {
    const std::size_t parent = (i - 1) / arity;
    if (!earlier(e, entries_[parent])) break;
    place(i, entries_[parent]);
    i = parent;
  }
  place(i, e);
}

// Moves the hole at `i` down until `e` fits there.
void TimerHeap::sift_down(std::size_t i, Entry e) noexcept {
  const std::size_t n = entries_.size();
  for (;;) {
    const std::size_t first = arity * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    const std::size_t end = first + arity < n ? first + arity : n;
    for (std::size_t c = first + 1; c < end; ++c) {
      if (earlier(entries_[c], entries_[best])) best = c;
    }
    if (!earlier(entries_[best], e)) break;
    place(i, entries_[best]);
    i = best;
  }
  place(i, e);
}

}  // namespace aio::detail
