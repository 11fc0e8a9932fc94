// The timer heap: a binary min-heap whose nodes remember their slot, so removal is O(log n).
#include "aio/detail/timer_heap.hpp"

#include <utility>

namespace aio::detail {

void TimerHeap::push(TimerNode* node) {
  node->sequence = next_sequence_++;
  nodes_.push_back(node);
  node->heap_index = static_cast<std::uint32_t>(nodes_.size() - 1);
  sift_up(node->heap_index);
}

TimerNode* TimerHeap::pop() {
  TimerNode* top = nodes_.front();
  remove(top);
  return top;
}

void TimerHeap::remove(TimerNode* node) {
  const std::size_t i = node->heap_index;
  node->heap_index = TimerNode::not_queued;
  TimerNode* last = nodes_.back();
  nodes_.pop_back();
  if (last == node) return;
  place(i, last);
  if (i > 0 && earlier(last, nodes_[(i - 1) / 2])) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

std::vector<TimerNode*> TimerHeap::release_all() {
  std::vector<TimerNode*> all = std::move(nodes_);
  nodes_.clear();
  for (TimerNode* node : all) node->heap_index = TimerNode::not_queued;
  return all;
}

void TimerHeap::sift_up(std::size_t i) noexcept {
  TimerNode* node = nodes_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!earlier(node, nodes_[parent])) break;
    place(i, nodes_[parent]);
    i = parent;
  }
  place(i, node);
}

void TimerHeap::sift_down(std::size_t i) noexcept {
  TimerNode* node = nodes_[i];
  const std::size_t n = nodes_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(nodes_[child + 1], nodes_[child])) ++child;
    if (!earlier(nodes_[child], node)) break;
    place(i, nodes_[child]);
    i = child;
  }
  place(i, node);
}

}  // namespace aio::detail
