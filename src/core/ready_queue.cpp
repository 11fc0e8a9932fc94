// The ready queue's blocks: the one place it allocates.
#include "aio/detail/runnable.hpp"

#include <initializer_list>
#include <utility>

namespace aio::detail {

struct ReadyQueue::Block {
  static constexpr std::size_t capacity = 511;  // with the link, 4 KiB
  Block* next = nullptr;
  Runnable* slots[capacity];
};

ReadyQueue::~ReadyQueue() {
  for (Block* list : {head_block_, spare_}) {
    while (list) delete std::exchange(list, list->next);
  }
}

void ReadyQueue::add_block() {
  Block* b = spare_;
  if (b) {
    spare_ = b->next;
    --spares_;
    b->next = nullptr;
  } else {
    b = new Block;
  }
  if (tail_block_) {
    tail_block_->next = b;
  } else {  // the first block: the head starts in it too
    head_block_ = b;
    head_ = b->slots;
    head_end_ = b->slots + Block::capacity;
  }
  tail_block_ = b;
  tail_ = b->slots;
  tail_end_ = b->slots + Block::capacity;
}

// The head used up its block; the tail has moved on (the queue is not empty), so there is a next.
void ReadyQueue::next_block() noexcept {
  Block* done = head_block_;
  head_block_ = done->next;
  if (spares_ < max_spares) {
    done->next = spare_;
    spare_ = done;
    ++spares_;
  } else {
    delete done;  // after a burst, memory follows what is queued, not its peak
  }
  head_ = head_block_->slots;
  head_end_ = head_block_->slots + Block::capacity;
}

}  // namespace aio::detail
