// aio/future.hpp — asyncio.Future: a shared handle on a result that arrives later.
//
// Future<T> is a reference-counted handle (copies share one state; == compares identity).
// set_result/set_exception/cancel complete it; done callbacks run via the loop, in the order
// added, never inside the call that completed it. `co_await fut` suspends the task until the
// future is done (not at all if it already is), then yields a copy of the value, moves it out
// for `co_await std::move(fut)`, or throws the stored exception / CancelledError. Cancelling
// the awaiting task cancels the future, as in asyncio.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "aio/contextvars.hpp"
#include "aio/detail/frame_allocator.hpp"
#include "aio/detail/future_base.hpp"
#include "aio/detail/thread_state.hpp"
#include "aio/detail/value_repr.hpp"
#include "aio/errors.hpp"

namespace aio {

template <class T>
class Future;

/// Identifies a done callback for remove_done_callback().
struct CallbackId {
  std::uint64_t value = 0;
  friend bool operator==(CallbackId, CallbackId) = default;
};

namespace detail {

/// The loop a new Future binds to: the running loop, else get_event_loop().
EventLoop& loop_for_new_future();
std::uint64_t next_callback_id() noexcept;

/// FutureBase plus the value. The value is constructed in place when it arrives; whether it
/// is there is a bit of FutureBase (no std::optional flag of its own: 8 bytes per task saved).
template <class T>
class FutureCore : public FutureBase {
 public:
  template <class... A>
  void store_value(A&&... args) {
    destroy_value();
    std::construct_at(&slot_.value, std::forward<A>(args)...);
    has_value_ = true;
  }
  const T& get() {
    check_result();
    return slot_.value;
  }
  T take() {
    check_result();
    return std::move(slot_.value);
  }
  /// The stored value (the caller knows it is there).
  T& value() noexcept { return slot_.value; }
  std::string result_repr() const override { return has_value_ ? value_repr(slot_.value) : "None"; }

 protected:
  using FutureBase::FutureBase;
  ~FutureCore() { destroy_value(); }

 private:
  void destroy_value() noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      if (has_value_) {
        std::destroy_at(&slot_.value);
        has_value_ = false;
      }
    }
  }
  union Slot {
    Slot() noexcept {}
    ~Slot() {}
    T value;
  } slot_;
};

template <>
class FutureCore<void> : public FutureBase {
 public:
  void store_value() noexcept {}
  void get() { check_result(); }
  void take() { check_result(); }

 protected:
  using FutureBase::FutureBase;
};

/// A plain future's state, from the thread's frame arena (creating a future allocates no
/// malloc block).
template <class T>
class FutureState final : public FutureCore<T> {
 public:
  explicit FutureState(EventLoop& loop) noexcept : FutureCore<T>(loop) {}
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* p, std::size_t size) noexcept { free_frame(p, size); }

 private:
  void destroy() noexcept override { delete this; }
};

/// A user's done callback: runs fn(Future<T>&) from the ready queue.
template <class T, class F>
class DoneCallback final : public DoneCallbackBase {
 public:
  DoneCallback(F fn, std::uint64_t id) : DoneCallbackBase(id), fn_(std::move(fn)) {}
  void run() override;
  void discard() noexcept override;

 private:
  F fn_;
};

/// What `co_await future` suspends on. Holds its own reference to the future.
template <class T, bool Move>
class FutureAwaiter final : public CancelHook {
 public:
  explicit FutureAwaiter(FutureCore<T>* core) noexcept : core_(core) { core_->add_ref(); }
  FutureAwaiter(const FutureAwaiter&) = delete;
  FutureAwaiter& operator=(const FutureAwaiter&) = delete;
  ~FutureAwaiter() {
    // Only when the frame is destroyed while still waiting (its loop was closed).
    if (task_ && !core_->done()) core_->remove_callback(task_);
    core_->release();
  }

  bool await_ready() const noexcept { return core_->done(); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
    note_await_line(h, line);
    FutureBase& task = FutureBase::current();
    check_can_wait(task, *core_);
    task_ = &task;
    task.suspend(h, this);
    core_->add_callback(&task);
    task.after_suspend();
  }
  T await_resume() {
    if (task_) task_->check_cancel();
    if constexpr (Move) {
      return core_->take();
    } else {
      return core_->get();
    }
  }
  bool cancel(std::string_view msg) override { return core_->cancel(msg); }
  std::string describe() const override { return describe_awaited(*core_); }

 private:
  friend struct DebugTableAccess;  // src/debug/debug_table.cpp
  FutureCore<T>* core_;
  FutureBase* task_ = nullptr;
};

/// RuntimeError for a task awaiting itself or a future of another loop.
void check_can_wait(FutureBase& task, FutureBase& awaited);

/// Waits until a future is done without reading it. Cancelling the waiting task cancels the
/// future (what shutdown waits with), or, with `forward_cancel` false, only the wait: the task
/// wakes at once with CancelledError and the future goes on (asyncio's _cancel_and_wait, which
/// wait_for(timeout <= 0) waits with, "so that it is reliably cancellable").
class DoneAwaiter final : public CancelHook {
 public:
  explicit DoneAwaiter(FutureBase& f, bool forward_cancel = true) noexcept
      : future_(&f), forward_cancel_(forward_cancel) {
    future_->add_ref();
  }
  DoneAwaiter(const DoneAwaiter&) = delete;
  DoneAwaiter& operator=(const DoneAwaiter&) = delete;
  ~DoneAwaiter() {
    if (task_ && !future_->done()) future_->remove_callback(task_);
    future_->release();
  }
  bool await_ready() const noexcept { return future_->done(); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
    note_await_line(h, line);
    FutureBase& task = FutureBase::current();
    check_can_wait(task, *future_);
    task_ = &task;
    task.suspend(h, this);
    future_->add_callback(&task);
    task.after_suspend();
  }
  void await_resume() {
    if (!task_) return;
    if (cancelled_) task_->throw_cancelled();
    task_->check_cancel();
  }
  bool cancel(std::string_view msg) override {
    if (forward_cancel_) return future_->cancel(msg);
    if (cancelled_ || future_->done()) return false;  // already woken: the next step delivers it
    future_->remove_callback(task_);
    cancelled_ = true;
    task_->note_cancel_message(msg);
    task_->schedule();
    return true;
  }
  std::string describe() const override { return describe_awaited(*future_); }

 private:
  friend struct DebugTableAccess;  // src/debug/debug_table.cpp
  FutureBase* future_;
  FutureBase* task_ = nullptr;
  bool forward_cancel_;
  bool cancelled_ = false;
};

}  // namespace detail

template <class T = void>
class Future {
 public:
  using value_type = T;

  /// A new pending future on the running loop (outside one: get_event_loop()).
  Future() : Future(adopt, new detail::FutureState<T>(detail::loop_for_new_future())) {}

  Future(const Future& other) noexcept : core_(other.core_) { core_->add_ref(); }
  Future(Future&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
  Future& operator=(Future other) noexcept {
    std::swap(core_, other.core_);
    return *this;
  }
  ~Future() {
    if (core_) core_->release();
  }

  bool done() const noexcept { return core_->done(); }
  bool cancelled() const noexcept { return core_->cancelled(); }
  /// The value; InvalidStateError while pending, CancelledError if cancelled, or the exception.
  decltype(auto) result() const { return core_->get(); }
  /// nullptr after a result; InvalidStateError while pending; CancelledError if cancelled.
  std::exception_ptr exception() const { return core_->exception(); }
  /// asyncio's repr(): "<Future finished result=4>"; a Task's is
  /// "<Task pending name='Task-1' coro=<main()>>".
  std::string repr() const { return core_->repr(); }

  template <class... A>
  void set_result(A&&... value) requires(std::is_void_v<T> ? sizeof...(A) == 0
                                                           : sizeof...(A) == 1) {
    check_settable("set_result");
    core_->store_value(std::forward<A>(value)...);
    core_->mark_finished();
  }
  void set_exception(std::exception_ptr e) {
    check_settable("set_exception");
    core_->set_exception(std::move(e));
  }
  /// Cancels the future (a Task: requests cancellation). False if it is already done.
  bool cancel(std::string msg = {}) { return core_->cancel(msg); }

  /// Schedules fn(Future<T>&) to run via the loop once the future is done.
  template <class F>
  requires std::is_invocable_v < F&, Future<T>
  & > CallbackId add_done_callback(F fn) {
    const CallbackId id{detail::next_callback_id()};
    // As asyncio: the callback runs in a copy of the context it was added from.
    core_->add_callback(
        detail::in_current_context(std::move(fn), [&](auto&& f) -> detail::CallbackNode* {
          using G = std::decay_t<decltype(f)>;
          return new detail::DoneCallback<T, G>(std::forward<decltype(f)>(f), id.value);
        }));
    return id;
  }
  /// The same, run in `context` itself (asyncio's context= argument).
  template <class F>
  requires std::is_invocable_v < F&, Future<T>
  & > CallbackId add_done_callback(F fn, Context context) {
    const CallbackId id{detail::next_callback_id()};
    using G = detail::InContext<F>;
    core_->add_callback(new detail::DoneCallback<T, G>(
        G{detail::ContextAccess::state(context), std::move(fn)}, id.value));
    return id;
  }
  /// Removes a callback that has not been scheduled yet; returns how many were removed.
  std::size_t remove_done_callback(CallbackId id) { return core_->remove_done_callbacks(id.value); }

  EventLoop& get_loop() const noexcept { return core_->loop(); }

  detail::FutureAwaiter<T, false> operator co_await() const& noexcept {
    return detail::FutureAwaiter<T, false>(core_);
  }
  detail::FutureAwaiter<T, true> operator co_await() && noexcept {
    return detail::FutureAwaiter<T, true>(core_);
  }

  template <class U>
  friend bool operator==(const Future& a, const Future<U>& b) noexcept {
    return static_cast<const detail::FutureBase*>(a.core_) == b.base();
  }

  // Implementation access for the library's templates.
  static constexpr struct Adopt {
  } adopt{};
  Future(Adopt, detail::FutureCore<T>* core) noexcept : core_(core) { core_->add_ref(); }
  detail::FutureCore<T>* core() const noexcept { return core_; }
  /// Hands this handle's reference over to the caller; the handle is left empty.
  detail::FutureCore<T>* release_core() && noexcept { return std::exchange(core_, nullptr); }
  const detail::FutureBase* base() const noexcept { return core_; }

 protected:
  void check_settable(const char* what) const;

  detail::FutureCore<T>* core_;
};

template <class T>
void Future<T>::check_settable(const char* what) const {
  if (core_->is_task()) throw RuntimeError(std::string("Task does not support ") + what + "()");
  if (core_->done())
    throw InvalidStateError(std::string(what) + "(): invalid state: future is done");
}

template <class T, class F>
void detail::DoneCallback<T, F>::run() {
  // The future's reference taken when this callback was scheduled passes to the handle.
  Future<T> fut(Future<T>::adopt, static_cast<FutureCore<T>*>(future()));
  future()->release();
  std::unique_ptr<DoneCallback> self(this);
  CallbackContextScope context;
  fn_(fut);
}

template <class T, class F>
void detail::DoneCallback<T, F>::discard() noexcept {
  if (future()) future()->release();
  delete this;
}

}  // namespace aio
