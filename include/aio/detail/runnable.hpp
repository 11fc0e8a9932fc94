// aio/detail/runnable.hpp — the unit of work of the ready queue.
//
// Everything the loop runs is a Runnable: a task's next step, a future's done callback, a
// call_soon handle, a timer that came due. The ready queue stores bare pointers, so scheduling
// never allocates; whoever queues a Runnable guarantees it stays alive until it runs or the
// queue discards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace aio::detail {

class FutureBase;

/// What a suspended task waits on, as far as cancelling it goes.
struct CancelHook {
  /// Cancels the awaited operation so that the task wakes with CancelledError; false if the
  /// operation already completed (the task then gets the cancellation at its next step).
  virtual bool cancel(std::string_view msg) = 0;
  /// What the task waits on, for the call graphs (aio/graph.hpp): "Queue.get()",
  /// "sleep(2.5) until t=12.300". "" when the awaitable does not say.
  virtual std::string describe() const { return {}; }

 protected:
  ~CancelHook() = default;
};

/// Runnables are CancelHooks too (a timer that wakes a task is what cancelling cancels), so an
/// awaitable that is both has one vtable pointer, not two. A Runnable is that pointer and no
/// more: a timer node, a handle or an I/O operation packs its own fields right after it.
struct Runnable : CancelHook {
  /// Runs the work; the queue has already dropped its pointer.
  virtual void run() = 0;
  /// The queue is dropped (loop closed) before run(): release what run() would have released.
  virtual void discard() noexcept {}
  bool cancel(std::string_view) override { return false; }

 protected:
  Runnable() = default;
  Runnable(const Runnable&) = delete;
  Runnable& operator=(const Runnable&) = delete;
  ~Runnable() = default;
};

/// A Runnable that can wait in a future's done-callback list: a task waking on a future, a
/// user's done callback, a gather's node.
struct CallbackNode : Runnable {
  /// Called (only if `notify_when_scheduled`) when a completing future is about to queue this
  /// callback: it may take a reference it needs then, or answer false to be left out (gather
  /// counts most children this way without a trip through the loop).
  virtual bool on_scheduled(FutureBase& from) noexcept {
    (void)from;
    return true;
  }
  /// The future this callback wakes, when it is one waiting (a task, a gather): who the future
  /// is "awaited by" in aio/graph.hpp's call graphs. nullptr for a plain callback.
  virtual FutureBase* waiter() const noexcept { return nullptr; }

  /// Intrusive link for a future's done-callback list (a node is in at most one list).
  CallbackNode* next_callback = nullptr;
  bool notify_when_scheduled = false;
  // Derived classes pack their small fields into the 7 bytes of tail padding that follow.

 protected:
  CallbackNode() = default;
  ~CallbackNode() = default;
};

/// FIFO of Runnable pointers in a chain of 4 KiB blocks. A block the head has left is kept
/// for the tail to reuse (up to 16 of them), so a loop in steady state schedules without
/// allocating; a burst (a million tasks created at once) costs only the blocks it fills, with
/// nothing copied, and gives them back as it drains.
class ReadyQueue {
 public:
  ReadyQueue() = default;
  ReadyQueue(const ReadyQueue&) = delete;
  ReadyQueue& operator=(const ReadyQueue&) = delete;
  ~ReadyQueue();

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  void push(Runnable* r) {
    if (tail_ == tail_end_) [[unlikely]]
      add_block();
    *tail_++ = r;
    ++size_;
  }
  /// The oldest entry (the queue must not be empty).
  Runnable* pop() noexcept {
    if (head_ == head_end_) [[unlikely]]
      next_block();
    --size_;
    return *head_++;
  }

 private:
  struct Block;
  void add_block();
  void next_block() noexcept;

  Runnable** head_ = nullptr;  // the next to pop, in head_block_
  Runnable** head_end_ = nullptr;
  Runnable** tail_ = nullptr;  // where the next push goes, in tail_block_
  Runnable** tail_end_ = nullptr;
  Block* head_block_ = nullptr;
  Block* tail_block_ = nullptr;
  static constexpr std::size_t max_spares = 16;
  Block* spare_ = nullptr;  // emptied blocks, for reuse
  std::size_t spares_ = 0;
  std::size_t size_ = 0;
};

}  // namespace aio::detail
