// aio/detail/remote_call.hpp — the awaitables behind run_on() and call_on() (aio/run_on.hpp).
//
// A call to another loop is a few nodes inside the awaiting frame, so it allocates nothing but
// the called coroutine's own frame: a Start node posted to the target loop makes the task
// there, a Done node in that task's callback list hands the outcome back, and the caller's
// task itself is what the target posts to the caller's loop to resume it. Cancelling the
// caller posts a Cancel node that cancels the remote task; the caller then waits for that task
// to end, as awaiting a task does.
//
// Cross-thread protocol. `phase_` is the only word both threads write: running -> cancelling
// (the caller asked, a Cancel node is on its way) or running -> delivered (the target handed
// the outcome back). Everything else the target touches it touches on its own thread; the
// caller reads the outcome only after its loop ran the task the target posted, which the
// posting queue's mutex orders after the writes. Once the target has posted the caller's task
// it touches the frame no more: the caller may resume and free it at once.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/loop.hpp"
#include "aio/task.hpp"

namespace aio::detail {

/// A value or an exception, filled on one thread and read on another.
template <class T>
struct RemoteResult {
  std::optional<T> value;
  std::exception_ptr error;
  template <class F>
  void fill(F&& produce) noexcept {
    try {
      value.emplace(produce());
    } catch (...) {
      error = std::current_exception();
    }
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};
template <>
struct RemoteResult<void> {
  std::exception_ptr error;
  template <class F>
  void fill(F&& produce) noexcept {
    try {
      produce();
    } catch (...) {
      error = std::current_exception();
    }
  }
  void take() const {
    if (error) std::rethrow_exception(error);
  }
};

/// What run_on() and call_on() share: the caller's side of a call to another loop.
class RemoteCallBase : public CancelHook {
 public:
  RemoteCallBase(const RemoteCallBase&) = delete;
  RemoteCallBase& operator=(const RemoteCallBase&) = delete;

 protected:
  enum Phase : std::uint8_t { idle, running, cancelling, delivered };

  explicit RemoteCallBase(EventLoop& target) noexcept : target_(&target) {}
  // Moved only before it is awaited (into a task by create_task()): a fresh call.
  RemoteCallBase(RemoteCallBase&& other) noexcept : target_(other.target_) {}
  /// Only when the caller's frame is destroyed while the call is out (its loop was closed
  /// under it) does this wait: the target writes into the frame until it lets go.
  ~RemoteCallBase() {
    if (phase_.load(std::memory_order_relaxed) == idle) return;
    while (!let_go_.load(std::memory_order_acquire)) std::this_thread::yield();
  }

  /// await_suspend's common part: refuses a closed target, names the caller, marks the call
  /// out. `what`: "run_on" or "call_on", for the errors.
  void leave(std::coroutine_handle<> h, const char* what) {
    if (LoopAccess::closed_to_posts(*target_)) {
      throw RuntimeError(std::string(what) + "(): the target event loop is closed");
    }
    FutureBase& task = FutureBase::current();
    caller_ = &task;
    caller_loop_ = &LoopAccess::running();
    task.suspend(h, this);
    phase_.store(running, std::memory_order_relaxed);
  }
  /// The post of the call failed: the caller did not suspend after all.
  [[noreturn]] void refuse(const char* what) {
    phase_.store(idle, std::memory_order_relaxed);
    caller_->suspend(nullptr, nullptr);
    throw RuntimeError(std::string(what) + (LoopAccess::closed_to_posts(*target_)
                                                ? "(): the target event loop is closed"
                                                : "(): the target event loop is shutting down"));
  }
  /// The outcome is in: hand the caller's task back to its loop. Nothing of the frame is
  /// touched after `let_go_`: the caller may run and free it at once. (A post to a closed
  /// loop fails, and then the frame is being destroyed by that loop's close().)
  void deliver() noexcept {
    FutureBase* caller = caller_;
    EventLoop* loop = caller_loop_;
    let_go_.store(true, std::memory_order_release);
    (void)LoopAccess::post(*loop, caller, PostKind::reply);
  }

  EventLoop* target_;
  FutureBase* caller_ = nullptr;
  EventLoop* caller_loop_ = nullptr;
  std::atomic<std::uint8_t> phase_{idle};
  std::atomic<bool> let_go_{false};
};

/// `co_await run_on(loop, coro)`: `coro` as a task on `loop`, its outcome back here.
template <class T>
class RunOnAwaiter final : public RemoteCallBase {
 public:
  RunOnAwaiter(EventLoop& target, Coro<T> coro) noexcept
      : RemoteCallBase(target), coro_(std::move(coro)) {}
  RunOnAwaiter(RunOnAwaiter&& other) noexcept
      : RemoteCallBase(std::move(other)), coro_(std::move(other.coro_)) {}
  ~RunOnAwaiter() {
    if (same_loop_ && remote_) {  // destroyed with the loop, the task still pending
      if (!remote_->done()) remote_->remove_callback(&done_);
      remote_->release();
      let_go_.store(true, std::memory_order_relaxed);
    }
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
    note_await_line(h, line);
    leave(h, "run_on");
    if (LoopAccess::is_running_here(*target_)) {
      // The caller's own loop: a task awaited in place.
      same_loop_ = true;
      start_.run();
    } else {
      if (!LoopAccess::post(*target_, &start_, PostKind::new_work)) refuse("run_on");
      LoopAccess::expect_foreign_calls(*caller_loop_);
    }
    caller_->after_suspend();
  }
  T await_resume() {
    caller_->check_cancel();
    return result_.take();
  }

  /// Cancels the remote task; the caller then waits for it to end and gets its outcome (its
  /// CancelledError, or what it returned after all), as awaiting a task does.
  bool cancel(std::string_view msg) override {
    if (same_loop_) return remote_ && remote_->cancel(msg);
    pending_.fetch_add(1, std::memory_order_relaxed);
    std::uint8_t expected = running;
    if (!phase_.compare_exchange_strong(expected, cancelling, std::memory_order_acq_rel)) {
      pending_.fetch_sub(1, std::memory_order_relaxed);
      return expected == cancelling;  // asked already; or delivered: too late (must-cancel)
    }
    cancel_message_.assign(msg);
    if (!LoopAccess::post(*target_, &cancel_, PostKind::reply)) settle();  // target closed
    return true;
  }
  std::string describe() const override { return "run_on()"; }

 private:
  // On the target: makes the task, learns when it ends.
  struct Start final : Runnable {
    RunOnAwaiter& call;
    explicit Start(RunOnAwaiter& c) noexcept : call(c) {}
    void run() override {
      try {
        Task<T> task = make_task(*call.target_, std::move(call.coro_));
        call.remote_ = std::move(task).release_core();
        call.remote_->add_callback(&call.done_);
      } catch (...) {
        call.result_.error = std::current_exception();
        call.remote_done();
      }
    }
    void discard() noexcept override {
      call.result_.error = std::make_exception_ptr(
          RuntimeError("run_on(): the target event loop closed before the call started"));
      call.remote_done();
    }
  };
  struct Done final : CallbackNode {
    RunOnAwaiter& call;
    explicit Done(RunOnAwaiter& c) noexcept : call(c) {}
    void run() override {
      FutureCore<T>* remote = std::exchange(call.remote_, nullptr);
      call.result_.fill([&]() -> T { return remote->take(); });
      remote->release();
      call.remote_done();
    }
    void discard() noexcept override {
      if (FutureCore<T>* remote = std::exchange(call.remote_, nullptr)) remote->release();
      call.result_.error = std::make_exception_ptr(
          RuntimeError("run_on(): the target event loop closed before the task finished"));
      call.remote_done();
    }
    FutureBase* waiter() const noexcept override { return call.caller_; }
  };
  // On the target: cancels the task if it is still there.
  struct Cancel final : Runnable {
    RunOnAwaiter& call;
    explicit Cancel(RunOnAwaiter& c) noexcept : call(c) {}
    void run() override {
      if (call.remote_) call.remote_->cancel(call.cancel_message_);
      call.settle();
    }
    void discard() noexcept override { call.settle(); }
  };

  // The remote outcome is stored. Without a cancellation it goes back at once; with one, the
  // Cancel node may still be queued on the target, pointing into this frame: the last of the
  // two (the outcome, the Cancel node) delivers.
  void remote_done() noexcept {
    if (same_loop_) {
      let_go_.store(true, std::memory_order_relaxed);
      caller_->schedule();
      return;
    }
    std::uint8_t expected = running;
    if (phase_.compare_exchange_strong(expected, delivered, std::memory_order_acq_rel)) {
      deliver();
    } else {
      settle();
    }
  }
  void settle() noexcept {
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) deliver();
  }

  Coro<T> coro_;
  Start start_{*this};
  Done done_{*this};
  Cancel cancel_{*this};
  FutureCore<T>* remote_ = nullptr;  // the task on the target (a reference), until it ends
  RemoteResult<T> result_;
  std::string cancel_message_;
  std::atomic<int> pending_{1};  // the outcome, plus the Cancel node once one is posted
  bool same_loop_ = false;
};

/// `co_await call_on(loop, fn)`: fn() as a callback on `loop`, its outcome back here.
template <class F>
class CallOnAwaiter final : public RemoteCallBase {
 public:
  using T = std::invoke_result_t<F&>;
  CallOnAwaiter(EventLoop& target, F fn) : RemoteCallBase(target), fn_(std::move(fn)) {}
  CallOnAwaiter(CallOnAwaiter&& other)
      : RemoteCallBase(std::move(other)), fn_(std::move(other.fn_)) {}

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
    note_await_line(h, line);
    leave(h, "call_on");
    if (!LoopAccess::post(*target_, &call_, PostKind::new_work)) refuse("call_on");
    if (!LoopAccess::is_running_here(*target_)) LoopAccess::expect_foreign_calls(*caller_loop_);
    caller_->after_suspend();
  }
  T await_resume() {
    if (dropped_) caller_->throw_cancelled();
    caller_->check_cancel();
    return result_.take();
  }
  /// Before fn runs, the call is dropped and the caller wakes with CancelledError (one turn of
  /// the target later); once it runs, the caller gets the CancelledError after it (the result
  /// is lost, as with a cancelled run_in_executor()).
  bool cancel(std::string_view msg) override {
    std::uint8_t expected = running;
    if (!phase_.compare_exchange_strong(expected, cancelling, std::memory_order_acq_rel)) {
      return expected == cancelling;
    }
    caller_->note_cancel_message(msg);
    return true;
  }
  std::string describe() const override { return "call_on()"; }

 private:
  struct Call final : Runnable {
    CallOnAwaiter& call;
    explicit Call(CallOnAwaiter& c) noexcept : call(c) {}
    void run() override {
      std::uint8_t expected = running;
      if (call.phase_.compare_exchange_strong(expected, delivered, std::memory_order_acq_rel)) {
        call.result_.fill(call.fn_);
      } else {
        call.dropped_ = true;
      }
      call.deliver();
    }
    void discard() noexcept override {
      call.result_.error = std::make_exception_ptr(
          RuntimeError("call_on(): the target event loop closed before the call ran"));
      call.deliver();
    }
  };

  F fn_;
  Call call_{*this};
  RemoteResult<T> result_;
  bool dropped_ = false;
};

}  // namespace aio::detail
