// The timer heap's order (aio/detail/timer_heap.hpp): deadline first, then scheduling order,
// also when the 32-bit sequence numbers wrap.
#include <gtest/gtest.h>

#include <aio/detail/timer_heap.hpp>
#include <cstdint>
#include <memory>
#include <vector>

namespace {

struct Node final : aio::detail::TimerNode {
  explicit Node(int v) : value(v) {}
  void run() override {}
  int value;
};

// Pops everything; returns the nodes' values in the order they came out.
std::vector<int> drain(aio::detail::TimerHeap& heap) {
  std::vector<int> order;
  while (!heap.empty()) order.push_back(static_cast<Node*>(heap.pop())->value);
  return order;
}

TEST(TimerHeap, EqualDeadlinesComeOutInSchedulingOrderAcrossTheSequenceWrap) {
  for (std::uint32_t first : {0u, 0xFFFFFFF0u, 0x7FFFFFF0u}) {
    aio::detail::TimerHeap heap(first);
    std::vector<std::unique_ptr<Node>> nodes;
    std::vector<int> expected;
    for (int i = 0; i < 40; ++i) {
      nodes.push_back(std::make_unique<Node>(i));
      heap.push(nodes.back().get(), i % 2 == 0 ? 1.0 : 2.0);  // two deadlines, interleaved
    }
    for (int i = 0; i < 40; i += 2) expected.push_back(i);
    for (int i = 1; i < 40; i += 2) expected.push_back(i);
    EXPECT_EQ(drain(heap), expected) << "first sequence " << first;
    for (const auto& n : nodes) EXPECT_FALSE(n->in_heap());
  }
}

TEST(TimerHeap, RemovingFromTheMiddleKeepsTheOrder) {
  aio::detail::TimerHeap heap(0xFFFFFFFEu);
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 30; ++i) {
    nodes.push_back(std::make_unique<Node>(i));
    heap.push(nodes.back().get(), static_cast<double>((i * 7) % 5));  // deadlines 0..4, repeated
  }
  std::vector<int> kept;
  for (int i = 0; i < 30; ++i) {
    if (i % 3 == 0) {
      heap.remove(nodes[static_cast<std::size_t>(i)].get());
      EXPECT_FALSE(nodes[static_cast<std::size_t>(i)]->in_heap());
    }
  }
  for (int d = 0; d < 5; ++d) {  // expected: by deadline, then by scheduling order
    for (int i = 0; i < 30; ++i) {
      if (i % 3 != 0 && (i * 7) % 5 == d) kept.push_back(i);
    }
  }
  EXPECT_EQ(drain(heap), kept);
}

}  // namespace
