// aio/handle.hpp — asyncio.Handle and asyncio.TimerHandle: what call_soon/call_later return.
//
// A handle shares ownership of the scheduled callback with the loop; cancel() before it runs
// and it never runs. A cancelled timer leaves the timer heap at once. The callable is stored
// inline in the one block each call_* takes from the thread's frame arena (no std::function,
// no malloc).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <utility>

#include "aio/detail/frame_allocator.hpp"
#include "aio/detail/timer_heap.hpp"

namespace aio {
class EventLoop;
}

namespace aio::detail {

/// A scheduled callback; every handle has the timer fields so one type serves both kinds.
class HandleState : public TimerNode {
 public:
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }
  void cancel_handle() noexcept;
  double when() const noexcept { return when_; }
  void set_when(double when) noexcept { when_ = when; }

  // Handles come from the thread's frame arena (a call_later allocates no malloc block).
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* p, std::size_t size) noexcept { free_frame(p, size); }

  void run() override;
  void discard() noexcept override { release(); }

 protected:
  explicit HandleState(EventLoop& loop) noexcept : loop_(&loop) {}
  virtual ~HandleState() = default;
  virtual void invoke() = 0;

 private:
  EventLoop* loop_;
  double when_ = 0;                     // a timer's deadline (TimerHandle::when())
  std::atomic<std::uint32_t> refs_{1};  // the queue's (or heap's) reference
  std::atomic<bool> cancelled_{false};
};

template <class F>
class CallbackHandle : public HandleState {
 public:
  CallbackHandle(EventLoop& loop, F fn) : HandleState(loop), fn_(std::move(fn)) {}

 private:
  void invoke() override { fn_(); }
  F fn_;
};

/// A handle made on another thread (call_soon_threadsafe): from the heap, so that a short-lived
/// thread does not leave a frame arena behind.
template <class F>
class ForeignCallbackHandle final : public CallbackHandle<F> {
 public:
  using CallbackHandle<F>::CallbackHandle;
  static void* operator new(std::size_t size) { return ::operator new(size); }
  static void operator delete(void* p) noexcept { ::operator delete(p); }
};

}  // namespace aio::detail

namespace aio {

/// asyncio.Handle: cancel() a callback scheduled with call_soon before it runs.
class Handle {
 public:
  Handle() = default;
  explicit Handle(detail::HandleState* state) noexcept : state_(state) {
    if (state_) state_->add_ref();
  }
  Handle(const Handle& other) noexcept : Handle(other.state_) {}
  Handle(Handle&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Handle& operator=(Handle other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Handle() {
    if (state_) state_->release();
  }

  void cancel() noexcept {
    if (state_) state_->cancel_handle();
  }
  bool cancelled() const noexcept { return state_ && state_->cancelled(); }

 protected:
  detail::HandleState* state_ = nullptr;
};

/// asyncio.TimerHandle: a Handle with the absolute time it is due at (loop.time() clock).
class TimerHandle : public Handle {
 public:
  using Handle::Handle;
  TimerHandle() = default;
  explicit TimerHandle(Handle h) noexcept : Handle(std::move(h)) {}
  double when() const noexcept { return state_ ? state_->when() : 0.0; }
};

}  // namespace aio
