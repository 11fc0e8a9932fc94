// The ready queue's growth: the one place it allocates.
#include <algorithm>

#include "aio/detail/runnable.hpp"

namespace aio::detail {

void ReadyQueue::grow() {
  const std::size_t capacity = std::max<std::size_t>(64, capacity_ * 2);
  std::unique_ptr<Runnable*[]> slots(new Runnable*[capacity]);  // not zeroed: filled as used
  const std::size_t n = size();
  for (std::size_t i = 0; i < n; ++i) slots[i] = slots_[(head_ + i) & (capacity_ - 1)];
  slots_ = std::move(slots);
  capacity_ = capacity;
  head_ = 0;
  tail_ = n;
}

}  // namespace aio::detail
