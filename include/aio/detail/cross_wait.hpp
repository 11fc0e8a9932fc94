// aio/detail/cross_wait.hpp — waiting on something another thread completes: the wait lists
// of Channel, Watch and Broadcast.
//
// A waiter is a node in the waiting frame (a task, on whatever loop it runs) or on the stack
// of a plain thread blocked in send_blocking()/recv_blocking(); waiting allocates nothing. The
// primitive's mutex guards the list and each node's state. A primitive wakes a waiter by
// unlinking it under that mutex, and then (after unlocking) posting the task to its own loop;
// a blocked thread is signalled while the mutex is still held, so that it cannot return and
// free its node before the signal has been sent. As in WaitQueue, a woken waiter re-checks
// the primitive, and one that is cancelled after its wake-up passes the wake-up on.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "aio/detail/future_base.hpp"
#include "aio/detail/spin_lock.hpp"
#include "aio/loop.hpp"

namespace aio::detail {

/// The lock of Channel, Watch and Broadcast: held for a few dozen instructions at a time.
using CrossLock = SpinLock;

struct CrossWaiter {
  enum class State : std::uint8_t { idle, waiting, woken, cancelled };
  FutureBase* task = nullptr;  // null: a blocked thread, woken through `signal`
  EventLoop* loop = nullptr;
  std::atomic<std::uint32_t> signal{0};
  CrossWaiter* prev = nullptr;
  CrossWaiter* next = nullptr;
  State state = State::idle;
  bool granted = false;  // woken with something set aside for it (an item, room)
  void* slot = nullptr;  // where a primitive that hands values over puts the waiter's
};

/// A task to wake once the primitive's mutex is released.
struct CrossWake {
  FutureBase* task = nullptr;
  EventLoop* loop = nullptr;
  void operator()() const {
    if (task) (void)LoopAccess::post(*loop, task, PostKind::reply);
  }
};

class CrossWaitList {
 public:
  bool empty() const noexcept { return !head_; }
  /// Without the mutex: someone waits (a Channel's fast path asks after each send or receive;
  /// the flag changes only when the list does, so asking moves no cache line).
  bool has_waiters() const noexcept { return waiting_.load(std::memory_order_relaxed); }
  void push(CrossWaiter* w) noexcept {
    w->prev = tail_;
    w->next = nullptr;
    (tail_ ? tail_->next : head_) = w;
    tail_ = w;
    w->state = CrossWaiter::State::waiting;
    if (!waiting_.load(std::memory_order_relaxed)) waiting_.store(true, std::memory_order_relaxed);
  }
  void unlink(CrossWaiter* w) noexcept {
    (w->prev ? w->prev->next : head_) = w->next;
    (w->next ? w->next->prev : tail_) = w->prev;
    w->prev = w->next = nullptr;
    if (!head_) waiting_.store(false, std::memory_order_relaxed);
  }
  /// Under the mutex: wakes the first waiter (a thread at once, a task by the CrossWake the
  /// caller runs after unlocking). An empty CrossWake when no one waits.
  CrossWake wake_one(bool granted = true) noexcept {
    CrossWaiter* w = head_;
    if (!w) return {};
    unlink(w);
    w->state = CrossWaiter::State::woken;
    w->granted = granted;
    if (!w->task) {
      w->signal.store(1, std::memory_order_release);
      w->signal.notify_one();
      return {};
    }
    return {w->task, w->loop};
  }
  /// The first waiter (the list must not be empty): to fill its slot before wake_one().
  CrossWaiter& front() const noexcept { return *head_; }
  /// Under the mutex: wakes everyone; `tasks` gets the wake-ups to run after unlocking.
  void wake_all(std::vector<CrossWake>& tasks) {
    while (head_) {
      CrossWake wake = wake_one(false);
      if (wake.task) tasks.push_back(wake);
    }
  }

 private:
  CrossWaiter* head_ = nullptr;
  CrossWaiter* tail_ = nullptr;
  std::atomic<bool> waiting_{false};
};

/// Runs `change()` under `lock`, wakes every waiter of `list`, and posts the woken tasks once
/// the lock is released (Watch's new value, Broadcast's, a close()).
template <class F>
void change_and_wake_all(CrossLock& lock, CrossWaitList& list, F&& change) {
  std::vector<CrossWake> wakes;
  {
    std::lock_guard guard(lock);
    change();
    list.wake_all(wakes);
  }
  for (const auto& w : wakes) w();
}

/// The awaitable side of a cross-thread wait: suspends the current task in `list` (the caller
/// holds `mutex`, which this releases). Cancelling unlinks the task and wakes it with
/// CancelledError, unless it was woken already.
class CrossWait final : public CancelHook {
 public:
  CrossWait(CrossLock& mutex, CrossWaitList& list, const char* what) noexcept
      : mutex_(&mutex), list_(&list), what_(what) {}
  CrossWait(const CrossWait&) = delete;
  CrossWait& operator=(const CrossWait&) = delete;
  ~CrossWait() {
    if (node_.state == CrossWaiter::State::waiting) {  // the frame died waiting (loop closed)
      std::lock_guard lock(*mutex_);
      if (node_.state == CrossWaiter::State::waiting) list_->unlink(&node_);
    }
  }

  /// Under the mutex (held by `lock`, released here): queue the current task and suspend it.
  void wait(std::coroutine_handle<> h, std::unique_lock<CrossLock>& lock) {
    enlist();
    suspend(h, lock);
  }
  /// Under the mutex: queues the current task (a waker may take it from now on), without
  /// suspending it yet: the primitive may look once more, and delist() it if it need not wait.
  void enlist() {
    node_.task = &FutureBase::current();
    node_.loop = &LoopAccess::running();
    list_->push(&node_);
  }
  void delist() noexcept {
    list_->unlink(&node_);
    node_.state = CrossWaiter::State::idle;
  }
  /// After enlist(), under the mutex (released here): the task suspends. A waker that took it
  /// meanwhile has posted it to this loop, which runs it only once this step is over.
  void suspend(std::coroutine_handle<> h, std::unique_lock<CrossLock>& lock) {
    FutureBase& task = *node_.task;
    task.suspend(h, this);
    lock.unlock();
    LoopAccess::expect_foreign_calls(*node_.loop);
    task.after_suspend();
  }
  /// After the resume: CancelledError if cancelled (also after a wake-up: `woken()` tells the
  /// primitive to pass that on).
  void check() {
    if (node_.state == CrossWaiter::State::cancelled) node_.task->throw_cancelled();
    node_.task->check_cancel();
  }
  bool woken() const noexcept { return node_.state == CrossWaiter::State::woken; }
  /// Woken with something set aside for it (read under the mutex).
  bool granted() const noexcept { return node_.granted; }
  /// Where a primitive that hands values over writes this waiter's (before waking it).
  void set_slot(void* slot) noexcept { node_.slot = slot; }

  bool cancel(std::string_view msg) override {
    {
      std::lock_guard lock(*mutex_);
      if (node_.state != CrossWaiter::State::waiting) return false;
      list_->unlink(&node_);
      node_.state = CrossWaiter::State::cancelled;
    }
    node_.task->note_cancel_message(msg);
    node_.task->schedule();
    return true;
  }
  std::string describe() const override { return what_; }

 private:
  CrossLock* mutex_;
  CrossWaitList* list_;
  const char* what_;
  CrossWaiter node_;
};

/// A plain thread that has put `node` in a list, under the mutex held by `lock`: releases the
/// mutex, sleeps until a waker signals the node, and takes the mutex again (the waker signals
/// under it, so it is done with the node by then).
inline void sleep_until_woken(CrossWaiter& node, std::unique_lock<CrossLock>& lock) {
  lock.unlock();
  while (node.signal.load(std::memory_order_acquire) == 0) node.signal.wait(0);
  lock.lock();
}

/// A plain thread's wait in `list` (Watch, Broadcast): under the mutex held by `lock`;
/// returns with it held again, once woken.
inline void block_in(CrossWaitList& list, std::unique_lock<CrossLock>& lock) {
  CrossWaiter node;
  list.push(&node);
  sleep_until_woken(node, lock);
}

}  // namespace aio::detail
