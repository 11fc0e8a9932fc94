// aio/detail/future_base.hpp — the state machine every Future and Task shares.
//
// One class holds the state of both: a Task is a future whose value a coroutine produces, and
// its FutureBase is that coroutine's promise (aio/coro.hpp), so a task costs one allocation,
// its frame. is_task() tells them apart; the task half (its step, the cancellation protocol,
// its name and context) is defined in src/task/task_core.cpp, the future half in
// src/task/future_base.cpp.
//
// pending → finished (a result, or an exception) | cancelled. Done callbacks are CallbackNodes in
// an intrusive FIFO list; completing the future moves them to the ready queue in registration
// order, so none ever runs inside set_result()/cancel() (asyncio's rule). The value itself lives
// in the typed FutureCore<T> (aio/future.hpp). Reference counts are plain integers: futures
// belong to one loop and one thread.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "aio/detail/runnable.hpp"
#include "aio/errors.hpp"

namespace aio {
class EventLoop;
}

namespace aio::detail {

/// Whether a new task takes its first step inside create_task() (asyncio 3.14's eager_start):
/// as the loop's task factory says, or yes / no for this task alone.
enum class EagerStart : std::uint8_t { factory, yes, no };

/// Bound to the loop that will run a future's callbacks; defined in the loop's sources.
void schedule_on(EventLoop& loop, Runnable* r);

/// An observer a future holds without a callback node (gather's bookkeeping: a million children
/// need no million nodes). It takes the place of the callback list while it is the only
/// observer, and is told synchronously when the future completes, where its callbacks would be
/// scheduled; it queues any work of its own then. The watcher keeps the future alive.
class Watcher {
 public:
  virtual void completed(FutureBase& f) noexcept = 0;
  /// Another callback arrives: a callback node to put in the watcher's place (it keeps its turn).
  virtual CallbackNode* as_callback(FutureBase& f) = 0;
  /// The future the watcher completes (CallbackNode::waiter()).
  virtual FutureBase* waiter() const noexcept { return nullptr; }

 protected:
  ~Watcher() = default;
};

struct ContextState;

/// Where a coroutine is in its task's chain of Coros, for aio/graph.hpp's call graphs and the
/// out-of-process readers (aio-ps; docs/design.md "Introspection"): its function and file, the
/// Coro it is awaiting inline now (so a task's chain can be walked from the task down), and the
/// line of the co_await it last suspended at (each awaitable's await_suspend records it:
/// note_await_line). A plain future's has no function. In FutureBase, at one offset for every
/// promise type, so that a reader that cannot call a virtual function finds it.
struct CoroFrame {
  const char* function = nullptr;
  const char* file = nullptr;
  CoroFrame* awaiting = nullptr;
  std::uint32_t line = 0;
};

/// A future's rarely used state (see FutureBase::extras(); src/task/future_extras.hpp).
struct FutureExtras;

class FutureBase : public CallbackNode {
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
  /// Finished with a value (not an exception, not cancelled).
  bool succeeded() const noexcept { return state_ == State::finished && !exception_; }

  /// A task in a future's callback list is waiting on it.
  FutureBase* waiter() const noexcept override { return const_cast<FutureBase*>(this); }
  /// A coroutine's place in its chain of Coros (aio/graph.hpp); a plain future's names no
  /// function.
  const CoroFrame& frame() const noexcept { return frame_; }
  CoroFrame& frame() noexcept { return frame_; }
  /// What a suspended task waits on (its awaitable's cancel hook), nullptr when running.
  const CancelHook* awaited_hook() const noexcept { return hook_; }
  /// The futures waiting on this one (the waiters of its callbacks and watcher), for the call
  /// graphs.
  std::vector<FutureBase*> waiters() const;
  /// asyncio 3.14's future_add_to_awaited_by / future_discard_from_awaited_by: `waiter` waits
  /// on this future without a callback that says so (it holds a reference until discarded or
  /// this future is freed).
  void add_awaited_by(FutureBase& waiter);
  void discard_awaited_by(FutureBase& waiter) noexcept;

  /// asyncio's Future.cancel(): a Task requests cancellation, a gather cancels its children.
  bool cancel(std::string_view msg) override {
    return is_task_ ? request_cancel(msg) : cancel_now(msg);
  }

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
    if (succeeded()) return;
    throw_not_ok();
  }
  /// Future.exception(): nullptr after a result; throws as check_result() otherwise.
  std::exception_ptr exception();
  /// The CancelledError a cancelled future raises (carries the cancel message).
  std::exception_ptr cancelled_error() const;
  std::string cancel_message() const;

  /// asyncio's repr(): "<Future pending>", "<Future finished result=4>",
  /// "<Task cancelling name='Task-1' coro=<main()>>"; also what logs show.
  virtual std::string repr() const;
  /// What "result=" shows: the value's repr (see aio/detail/value_repr.hpp).
  virtual std::string result_repr() const { return "None"; }
  /// "result=..." or "exception=..." for a future that finished; "" otherwise.
  std::string outcome_repr() const;

  /// Registers a done callback; on a done future it is scheduled at once (never run inline).
  void add_callback(CallbackNode* r);
  /// Registers `w` if it would be the only observer of a pending future; false otherwise (the
  /// caller registers a callback node instead).
  bool try_watch(Watcher& w) noexcept {
    if (state_ != State::pending || callbacks_) return false;
    callbacks_ = tag(&w);
    return true;
  }
  /// Withdraws a try_watch() registration still in place.
  void unwatch(Watcher& w) noexcept {
    if (callbacks_ == tag(&w)) callbacks_ = nullptr;
  }
  /// Unlinks a callback not yet scheduled; false if it was not in the list.
  bool remove_callback(CallbackNode* r) noexcept;
  /// The loop is closing with this (task's) future pending: drop whoever waits on it.
  void discard_callbacks() noexcept;
  /// remove_done_callback(): unlinks (and frees) the user callbacks with this id.
  std::size_t remove_done_callbacks(std::uint64_t id) noexcept;

  // ---- The task half (a Task is a future whose value a coroutine produces) ----
  // A task's state lives in its root coroutine's promise, so a task is one allocation. The loop
  // resumes the innermost suspended frame (`resume_point_`); awaiting a Coro inside a task is a
  // symmetric transfer that never touches this state.
  //
  // Cancellation is one mechanism for every suspension point. An awaitable suspends through
  // `suspend()`, naming a CancelHook (what to cancel: the awaited future, the timer...). cancel()
  // fires the hook; if there is none, or it declines, the request is remembered (must-cancel)
  // and delivered at the next step: the awaitable's await_resume calls `check_cancel()`, which
  // throws CancelledError at that co_await. This is asyncio's Task.cancel()/__step, one to one.

  /// One step: deliver a pending cancellation, resume where the task is suspended.
  void run() override;

  /// Task.cancel(msg).
  bool request_cancel(std::string_view msg);
  std::int64_t uncancel() noexcept;
  std::int64_t cancelling() const noexcept { return has_extras_ ? cancel_requests() : 0; }

  std::string name() const;
  /// A task's name without reading the task (it may be gone: then "Task-<id>"); for another
  /// thread (the stall detector).
  static std::string name_by_address(const FutureBase* task, std::uint64_t id);
  void set_name(std::string name);
  std::uint64_t id() const noexcept { return id_; }

  /// The contextvars context the task runs in (aio/contextvars.hpp); a task without one runs in
  /// an empty context, made by own_context() when it is first needed (a variable is set, or
  /// Task::get_context() is called).
  void set_context(std::shared_ptr<ContextState> context);
  const std::shared_ptr<ContextState>& own_context();
  bool has_context() const noexcept { return has_context_; }
  /// The task's context without making one (null without one): a lookup in the extras.
  const std::shared_ptr<ContextState>* shared_context() const noexcept;

  /// The task stepping on this thread; RuntimeError outside a task.
  static FutureBase& current();

  /// Called from an awaitable's await_suspend: the task resumes `h` when woken, and cancel()
  /// goes to `hook` (nullptr: nothing to cancel, e.g. a bare yield).
  void suspend(std::coroutine_handle<> h, CancelHook* hook) noexcept {
    resume_point_ = h;
    hook_ = hook;
  }
  /// After the awaitable has registered its wake-up: a cancel requested while the task ran
  /// goes to the new hook now (asyncio cancels the awaited future at once).
  void after_suspend() {
    if (must_cancel_) [[unlikely]]
      cancel_awaited();
  }
  /// Called from every awaitable's await_resume: throws the CancelledError of a delivered
  /// cancellation.
  void check_cancel() {
    if (deliver_cancel_) [[unlikely]]
      throw_cancelled();
  }
  /// An awaitable's hook cancelled it with `msg`: the CancelledError to throw carries it.
  void note_cancel_message(std::string_view msg) { set_cancel_message(msg); }
  /// Throws CancelledError with the task's cancel message.
  [[noreturn]] void throw_cancelled();
  /// Queues the next step (the task is woken).
  void schedule() { schedule_on(*loop_, this); }

  // Intrusive list of the loop's unfinished tasks (all_tasks()); the fields are declared
  // last, so that the small state packs into the CallbackNode's padding.
  FutureBase* prev_task() const noexcept { return prev_task_; }
  FutureBase* next_task() const noexcept { return next_task_; }

 protected:
  FutureBase() noexcept = default;  // a coroutine's promise: bound to a loop when it becomes a task
  explicit FutureBase(EventLoop& loop) noexcept : loop_(&loop) {}
  ~FutureBase() {
    if (callbacks_) discard_callbacks();
    if (has_extras_) [[unlikely]]
      drop_extras();
  }
  /// Frees the object (delete, or destroy the coroutine frame that holds it).
  virtual void destroy() noexcept = 0;

  void set_cancel_message(std::string_view msg);
  void schedule_callbacks();
  void schedule_list();
  [[noreturn]] static void throw_closed();
  // callbacks_ holds a Watcher instead of a list when its low bit is set.
  static CallbackNode* tag(Watcher* w) noexcept {
    return reinterpret_cast<CallbackNode*>(reinterpret_cast<std::uintptr_t>(w) | 1);
  }
  Watcher* watcher() const noexcept {
    const auto bits = reinterpret_cast<std::uintptr_t>(callbacks_);
    return bits & 1 ? reinterpret_cast<Watcher*>(bits - 1) : nullptr;
  }
  /// Detaches the callback list; returns its first element (a null-terminated chain).
  CallbackNode* take_callbacks() noexcept;
  [[noreturn]] void throw_not_ok();
  void last_release() noexcept;
  void report_last_release() noexcept;

  /// Turns a coroutine into a task on `loop` and schedules its first step; or, when the task
  /// starts eagerly (`eager`, or the loop's factory, on a running loop), returns true and
  /// leaves the first step to the caller (run()).
  bool start(EventLoop& loop, EagerStart eager = EagerStart::factory);
  /// The root coroutine ended: settle the future from what it left behind.
  void finish() noexcept;

  // What few futures need (a name, a cancel message, the cancel counter) lives outside the
  // object, in a table keyed by its address, made on first use: 8 bytes less in every task.
  FutureExtras& extras();
  /// This future's entry in the table, or nullptr (the entry is not part of the object).
  FutureExtras* find_extras() const noexcept;
  std::int64_t cancel_requests() const noexcept;
  void drop_extras() noexcept;

  // Small state first: it fits in the CallbackNode's padding (a task's whole state is 88 bytes).
  State state_ = State::pending;
  bool is_task_ : 1 = false;
  bool log_unretrieved_ : 1 = false;     // an exception nobody has looked at yet
  bool must_cancel_ : 1 = false;         // a cancel to deliver at the next step
  bool deliver_cancel_ : 1 = false;      // ... being delivered now
  bool ended_by_cancel_ : 1 = false;     // CancelledError escaped the coroutine
  bool ended_by_interrupt_ : 1 = false;  // KeyboardInterrupt escaped: also leaves the loop
  bool claimed_ : 1 = false;             // the Coro was awaited or made a task
  bool started_ : 1 = false;             // the task took its first step
  bool has_value_ : 1 = false;           // FutureCore<T>'s value is constructed
  bool has_extras_ : 1 = false;          // the table of extras has an entry for this future
  bool has_context_ : 1 = false;         // a task with a contextvars context (in the extras)
  std::uint32_t refs_ = 0;
  EventLoop* loop_ = nullptr;
  std::exception_ptr exception_;  // set with finished (failure) or cancelled (its CancelledError)
  CallbackNode* callbacks_ = nullptr;  // the last callback of a circular list (last->next is
                                       // first), or a tagged Watcher
  // A task: where the next step resumes. A Coro awaited inline: the awaiter to return to.
  std::coroutine_handle<> resume_point_;
  CancelHook* hook_ = nullptr;
  std::uint64_t id_ = 0;
  FutureBase* prev_task_ = nullptr;
  FutureBase* next_task_ = nullptr;
  CoroFrame frame_;

 private:
  friend struct LoopInternals;  // the loop's task list (src/core/loop_internals.hpp)
  void cancel_awaited();
  void cancel_before_start() noexcept;
  void settle_unusual() noexcept;

  friend struct DebugTableAccess;  // the offsets aio-ps reads (src/debug/debug_table.cpp)
};

/// Records the line of the co_await a Coro suspends at, for aio/graph.hpp's call stacks. Every
/// awaitable of the library calls it from its await_suspend, whose default argument
/// `line = __builtin_LINE()` is evaluated at the co_await (GCC 12 and Clang 14 alike; a promise
/// await_transform cannot do it: GCC 12 copies what that returns). Nothing for a coroutine that
/// is not a Coro.
template <class P>
void note_await_line(std::coroutine_handle<P> h, std::uint32_t line) noexcept {
  if constexpr (std::is_base_of_v<FutureBase, P>) h.promise().frame().line = line;
}

/// "Task(name='worker')" or "Future()": what a task awaiting `f` waits on, for the call graphs.
std::string describe_awaited(const FutureBase& f);

/// Base of a user's done callback (Future::add_done_callback); see aio/future.hpp.
class DoneCallbackBase : public CallbackNode {
 public:
  std::uint64_t id() const noexcept { return id_; }
  /// The future, once scheduled (with a reference the callback releases); nullptr before.
  FutureBase* future() const noexcept { return future_; }

 protected:
  explicit DoneCallbackBase(std::uint64_t id) noexcept : id_(id) { notify_when_scheduled = true; }
  virtual ~DoneCallbackBase() = default;

 private:
  bool on_scheduled(FutureBase& from) noexcept override {
    future_ = &from;
    from.add_ref();
    return true;
  }
  FutureBase* future_ = nullptr;
  std::uint64_t id_;
};

}  // namespace aio::detail
