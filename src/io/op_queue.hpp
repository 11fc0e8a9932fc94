// A FIFO of operations waiting on one direction of one descriptor, linked through
// IoOp::next_in_queue: how both backends let several operations wait on one descriptor with
// one registration with the kernel.
#pragma once

#include "io/io_op.hpp"

namespace aio::detail {

struct OpQueue {
  IoOp* head = nullptr;
  IoOp* tail = nullptr;

  bool empty() const noexcept { return head == nullptr; }

  void push(IoOp* op) noexcept {
    op->next_in_queue = nullptr;
    (tail ? tail->next_in_queue : head) = op;
    tail = op;
  }

  IoOp* pop() noexcept {
    IoOp* op = head;
    head = op->next_in_queue;
    if (!head) tail = nullptr;
    op->next_in_queue = nullptr;
    return op;
  }

  bool remove(IoOp* op) noexcept {
    IoOp* prev = nullptr;
    for (IoOp* cur = head; cur; prev = cur, cur = cur->next_in_queue) {
      if (cur != op) continue;
      (prev ? prev->next_in_queue : head) = cur->next_in_queue;
      if (tail == cur) tail = prev;
      cur->next_in_queue = nullptr;
      return true;
    }
    return false;
  }
};

}  // namespace aio::detail
