// aio/detail/runnable.hpp — the unit of work of the ready queue.
//
// Everything the loop runs is a Runnable: a task's next step, a future's done callback, a
// call_soon handle, a timer that came due. The ready queue stores bare pointers, so scheduling
// never allocates; whoever queues a Runnable guarantees it stays alive until it runs or the
// queue discards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace aio::detail {

class FutureBase;

/// What a suspended task waits on, as far as cancelling it goes.
struct CancelHook {
  /// Cancels the awaited operation so that the task wakes with CancelledError; false if the
  /// operation already completed (the task then gets the cancellation at its next step).
  virtual bool cancel(std::string_view msg) = 0;

 protected:
  ~CancelHook() = default;
};

/// Runnables are CancelHooks too (a timer that wakes a task is what cancelling cancels), so an
/// awaitable that is both has one vtable pointer, not two.
struct Runnable : CancelHook {
  /// Runs the work; the queue has already dropped its pointer.
  virtual void run() = 0;
  /// The queue is dropped (loop closed) before run(): release what run() would have released.
  virtual void discard() noexcept {}

  /// Called (only if `notify_when_scheduled`) when a completing future is about to queue this
  /// callback: it may take a reference it needs then, or answer false to be left out (gather
  /// counts most children this way without a trip through the loop).
  virtual bool on_scheduled(FutureBase& from) noexcept {
    (void)from;
    return true;
  }
  bool cancel(std::string_view) override { return false; }

  /// Intrusive link for a future's done-callback list (a Runnable is in at most one list).
  Runnable* next_callback = nullptr;
  bool notify_when_scheduled = false;
  // Derived classes pack their small fields into the 7 bytes of tail padding that follow.

 protected:
  Runnable() = default;
  Runnable(const Runnable&) = delete;
  Runnable& operator=(const Runnable&) = delete;
  ~Runnable() = default;
};

/// FIFO ring of Runnable pointers; grows by doubling and never shrinks, so a loop in steady
/// state schedules without allocating.
class ReadyQueue {
 public:
  ReadyQueue() = default;
  ReadyQueue(const ReadyQueue&) = delete;
  ReadyQueue& operator=(const ReadyQueue&) = delete;

  bool empty() const noexcept { return head_ == tail_; }
  std::size_t size() const noexcept { return tail_ - head_; }

  void push(Runnable* r) {
    if (tail_ - head_ == capacity_) grow();
    slots_[tail_++ & (capacity_ - 1)] = r;
  }
  Runnable* pop() noexcept { return slots_[head_++ & (capacity_ - 1)]; }

 private:
  void grow();

  std::unique_ptr<Runnable*[]> slots_;
  std::size_t capacity_ = 0;  // a power of two
  std::size_t head_ = 0;      // both indexes only grow; masked on access
  std::size_t tail_ = 0;
};

}  // namespace aio::detail
