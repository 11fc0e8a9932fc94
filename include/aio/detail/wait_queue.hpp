// aio/detail/wait_queue.hpp — a FIFO of suspended tasks: what queues and locks wait in.
//
// asyncio's primitives keep a deque of Futures and wake the first that is not done. Here the
// waiter is a node inside the awaiting frame, so waiting allocates nothing. wake_one() wakes
// the first waiter (its task runs one loop turn later, exactly when asyncio's future callback
// would run it). Cancelling a waiting task unlinks its node and wakes it with CancelledError;
// a task cancelled after it was woken still gets the CancelledError, and `woken()` lets the
// primitive pass the wake-up on ("a cancelled waiter takes nothing and strands no one").
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <string_view>

#include "aio/detail/thread_state.hpp"

namespace aio::detail {

class WaitQueue;

/// Says what a queue's waiters wait for when a fixed name is not enough, for the call graphs:
/// "Lock.acquire() (held by Task 'a')", "StreamReader.readline() from 127.0.0.1:5000".
class WaitDescriber {
 public:
  virtual std::string describe_wait() const = 0;

 protected:
  ~WaitDescriber() = default;
};

class Waiter final : public CancelHook {
 public:
  explicit Waiter(WaitQueue& queue) noexcept : queue_(&queue) {}
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  inline ~Waiter();

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
    note_await_line(h, line);
    wait(h);
  }
  /// await_suspend's work: queues the task.
  inline void wait(std::coroutine_handle<> h);
  /// Returns when woken; throws CancelledError when the task was cancelled.
  void await_resume() {
    if (state_ == State::cancelled) task_->throw_cancelled();
    task_->check_cancel();
  }
  inline bool cancel(std::string_view msg) override;
  inline std::string describe() const override;

  /// Woken by the primitive (whether or not a cancellation arrived afterwards).
  bool woken() const noexcept { return state_ == State::woken; }

 private:
  friend class WaitQueue;
  friend struct DebugTableAccess;  // src/debug/debug_table.cpp
  enum class State : std::uint8_t { idle, waiting, woken, cancelled };

  WaitQueue* queue_;
  FutureBase* task_ = nullptr;
  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  State state_ = State::idle;
};

class WaitQueue {
 public:
  /// `what`: the wait, as the call graphs name it ("Lock.acquire()"); a string literal.
  /// `describer`: says more, at the time of asking.
  explicit WaitQueue(const char* what = "", const WaitDescriber* describer = nullptr) noexcept
      : what_(what), describer_(describer) {}
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  bool empty() const noexcept { return !head_; }
  /// Wakes the first waiter; false if there was none.
  bool wake_one() {
    Waiter* w = head_;
    if (!w) return false;
    unlink(w);
    w->state_ = Waiter::State::woken;
    w->task_->schedule();
    return true;
  }
  void wake_all() {
    while (wake_one()) {
    }
  }

 private:
  friend class Waiter;
  friend struct DebugTableAccess;  // src/debug/debug_table.cpp
  void push(Waiter* w) noexcept {
    w->prev_ = tail_;
    w->next_ = nullptr;
    (tail_ ? tail_->next_ : head_) = w;
    tail_ = w;
  }
  void unlink(Waiter* w) noexcept {
    (w->prev_ ? w->prev_->next_ : head_) = w->next_;
    (w->next_ ? w->next_->prev_ : tail_) = w->prev_;
    w->prev_ = w->next_ = nullptr;
  }

  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  const char* what_;
  const WaitDescriber* describer_;
};

Waiter::~Waiter() {
  if (state_ == State::waiting) queue_->unlink(this);  // the frame died while waiting
}

void Waiter::wait(std::coroutine_handle<> h) {
  FutureBase& task = FutureBase::current();
  task_ = &task;
  task.suspend(h, this);
  queue_->push(this);
  state_ = State::waiting;
  task.after_suspend();
}

std::string Waiter::describe() const {
  return queue_->describer_ ? queue_->describer_->describe_wait() : queue_->what_;
}

bool Waiter::cancel(std::string_view msg) {
  if (state_ != State::waiting) return false;
  queue_->unlink(this);
  state_ = State::cancelled;
  task_->note_cancel_message(msg);
  task_->schedule();
  return true;
}

/// Waits in a queue without throwing: `co_await` gives what ended the wait abnormally (the
/// CancelledError), or null when woken; woken() tells whether a wake-up was received first.
class WaitIn {
 public:
  explicit WaitIn(WaitQueue& queue) noexcept : waiter_(queue) {}
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
    waiter_.await_suspend(h, line);
  }
  std::exception_ptr await_resume() noexcept {
    try {
      waiter_.await_resume();
      return nullptr;
    } catch (...) {
      return std::current_exception();
    }
  }
  bool woken() const noexcept { return waiter_.woken(); }

 private:
  Waiter waiter_;
};

}  // namespace aio::detail
