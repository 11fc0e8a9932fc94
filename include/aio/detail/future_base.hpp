// aio/detail/future_base.hpp — the state machine every Future and Task shares.
//
// pending → finished (a result, or an exception) | cancelled. Done callbacks are Runnables in an
// intrusive FIFO list; completing the future moves them to the ready queue in registration
// order, so none ever runs inside set_result()/cancel() (asyncio's rule). The value itself lives
// in the typed FutureCore<T> (aio/future.hpp). Reference counts are plain integers: futures
// belong to one loop and one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "aio/detail/runnable.hpp"
#include "aio/errors.hpp"

namespace aio {
class EventLoop;
}

namespace aio::detail {

/// Bound to the loop that will run a future's callbacks; defined in the loop's sources.
void schedule_on(EventLoop& loop, Runnable* r);

class FutureBase {
 public:
  enum class State : std::uint8_t { pending, finished, cancelled };

  FutureBase(const FutureBase&) = delete;
  FutureBase& operator=(const FutureBase&) = delete;

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) last_release();
  }

  std::uint32_t use_count() const noexcept { return refs_; }
  EventLoop& loop() const noexcept { return *loop_; }
  bool done() const noexcept { return state_ != State::pending; }
  bool cancelled() const noexcept { return state_ == State::cancelled; }
  bool is_task() const noexcept { return is_task_; }

  /// asyncio's Future.cancel(): a Task requests cancellation, a gather cancels its children.
  virtual bool cancel(std::string_view msg) { return cancel_now(msg); }

  /// Future.cancel() proper: pending → cancelled, callbacks scheduled. False once done (and,
  /// as in asyncio, the "exception never retrieved" report is silenced).
  bool cancel_now(std::string_view msg);
  /// Future.set_exception(); InvalidStateError unless pending.
  void set_exception(std::exception_ptr e);
  /// The value is already stored by the typed layer: mark finished and schedule callbacks.
  void mark_finished();

  /// What result() checks before reading the value: throws InvalidStateError while pending,
  /// CancelledError if cancelled, the stored exception if one was set.
  void check_result() {
    if (state_ == State::finished && !exception_) return;
    throw_not_ok();
  }
  /// Future.exception(): nullptr after a result; throws as check_result() otherwise.
  std::exception_ptr exception();
  /// The CancelledError a cancelled future raises (carries the cancel message).
  std::exception_ptr cancelled_error() const;
  std::string cancel_message() const { return cancel_message_ ? *cancel_message_ : std::string(); }

  /// A short description for logs: "<Future finished>", "<Task pending name='Task-1' ...>".
  virtual std::string repr() const;

  /// Registers a done callback; on a done future it is scheduled at once (never run inline).
  void add_callback(Runnable* r);
  /// Unlinks a callback not yet scheduled; false if it was not in the list.
  bool remove_callback(Runnable* r) noexcept;
  /// The loop is closing with this (task's) future pending: drop whoever waits on it.
  void discard_callbacks() noexcept;
  /// remove_done_callback(): unlinks (and frees) the user callbacks with this id.
  std::size_t remove_done_callbacks(std::uint64_t id) noexcept;

 protected:
  friend class TaskCore;
  FutureBase() noexcept = default;  // a coroutine's promise: bound to a loop when it becomes a task
  FutureBase(EventLoop& loop, bool is_task) noexcept : loop_(&loop), is_task_(is_task) {}
  virtual ~FutureBase();
  /// Frees the object (delete, or destroy the coroutine frame that holds it).
  virtual void destroy() noexcept = 0;

  void set_cancel_message(std::string_view msg);
  void schedule_callbacks();
  /// Detaches the callback list; returns its first element (a null-terminated chain).
  Runnable* take_callbacks() noexcept;
  [[noreturn]] void throw_not_ok();
  void last_release() noexcept;

  EventLoop* loop_ = nullptr;
  std::exception_ptr exception_;   // set with finished (failure) or cancelled (its CancelledError)
  Runnable* callbacks_ = nullptr;  // the last callback of a circular list (last->next is first)
  std::unique_ptr<std::string> cancel_message_;
  std::uint32_t refs_ = 0;
  State state_ = State::pending;
  bool is_task_ = false;
  bool log_unretrieved_ = false;  // an exception nobody has looked at yet
};

/// Base of a user's done callback (Future::add_done_callback); see aio/future.hpp.
class DoneCallbackBase : public Runnable {
 public:
  std::uint64_t id() const noexcept { return id_; }
  /// The future, once scheduled (with a reference the callback releases); nullptr before.
  FutureBase* future() const noexcept { return future_; }

 protected:
  explicit DoneCallbackBase(std::uint64_t id) noexcept : id_(id) { notify_when_scheduled = true; }
  virtual ~DoneCallbackBase() = default;

 private:
  void on_scheduled(FutureBase& from) noexcept override {
    future_ = &from;
    from.add_ref();
  }
  FutureBase* future_ = nullptr;
  std::uint64_t id_;
};

}  // namespace aio::detail
