// aio/task.hpp — asyncio.Task: a Future that drives a Coro on the loop. (aio/tasks.hpp is the
// whole asyncio.tasks module: this, sleep, gather and as_completed.)
//
// create_task() schedules the Coro's first step with call_soon (FIFO with other ready work; the
// body never starts inside create_task, unless the loop's task factory is eager_task_factory:
// aio/task_factory.hpp) and returns a Task<T> handle. The loop keeps the task
// alive until it finishes, whether or not anyone holds a handle; handles stay readable after
// the loop is closed. cancel(msg) *requests* cancellation: the task's pending co_await throws
// CancelledError at its next resumption, and an awaited Future/Task is cancelled with it.
// TaskRef is the same handle with the value type erased (current_task(), all_tasks()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/contextvars.hpp"
#include "aio/coro.hpp"
#include "aio/detail/awaitable.hpp"
#include "aio/future.hpp"

namespace aio {

class TaskRef;

namespace detail {

/// The running loop of this thread; RuntimeError("no running event loop") when none.
EventLoop& running_loop();
/// The running loop, else the thread's current loop (get_event_loop()).
EventLoop& running_or_current_loop();
std::vector<TaskRef> tasks_of(EventLoop& loop);

}  // namespace detail

template <class T>
class Task;

/// asyncio's create_task() keywords, for create_task(coro, TaskOptions{...}) (free function,
/// loop.create_task, TaskGroup::create_task):
///   aio::create_task(f(), aio::TaskOptions{.name = "x", .context = ctx, .eager_start = true});
/// (Name the type: GCC 12 finds a bare designated list ambiguous with the name overload.)
struct TaskOptions {
  std::string name = {};  ///< empty: "Task-N"
  /// Runs in this context itself; unset: in a copy of the current one.
  std::optional<Context> context = std::nullopt;
  /// Unset: the loop's task factory decides. true: the first step runs inside create_task()
  /// when the loop runs (asyncio 3.14's eager_start); false: it is scheduled.
  std::optional<bool> eager_start = std::nullopt;
};

namespace detail {
template <class X>
struct IsFuture : std::false_type {};
template <class T>
struct IsFuture<Future<T>> : std::true_type {};
template <class T>
struct IsFuture<Task<T>> : std::true_type {};
template <class X>
struct IsCoro : std::false_type {};
template <class T>
struct IsCoro<Coro<T>> : std::true_type {};

/// A Coro that awaits `aw`. A Future or Task is shared: its value is copied, never moved out
/// from under its other holders (unless it cannot be copied).
template <class T>
inline constexpr bool copyable_result = std::is_void_v<T> || std::is_copy_constructible_v<T>;
template <class A>
inline constexpr bool copy_out = false;
template <class T>
inline constexpr bool copy_out<Future<T>> = copyable_result<T>;
template <class T>
inline constexpr bool copy_out<Task<T>> = copyable_result<T>;

template <class A>
Coro<await_result_t<A>> await_in_coro(A aw) {
  if constexpr (copy_out<A>) {
    co_return co_await aw;
  } else {
    co_return co_await std::move(aw);
  }
}

}  // namespace detail

template <class T = void>
class Task : public Future<T> {
 public:
  Task(typename Future<T>::Adopt, detail::Promise<T>* promise) noexcept
      : Future<T>(Future<T>::adopt, promise) {}

  std::string get_name() const { return task().name(); }
  void set_name(std::string name) { task().set_name(std::move(name)); }
  /// Requests cancellation; false if the task is already done.
  bool cancel(std::string msg = {}) { return task().request_cancel(msg); }
  /// The number of pending cancellation requests (asyncio's Task.cancelling()).
  std::int64_t cancelling() const noexcept { return task().cancelling(); }
  /// Withdraws one cancellation request; returns the remaining count.
  std::int64_t uncancel() noexcept { return task().uncancel(); }
  /// asyncio's Task.get_context(): the context the task runs in (the same one, not a copy).
  Context get_context() const { return detail::ContextAccess::make(task().own_context()); }

  operator TaskRef() const noexcept;  // NOLINT(google-explicit-constructor): a Task is a TaskRef

 private:
  detail::FutureBase& task() const noexcept {
    return *static_cast<detail::Promise<T>*>(this->core_);
  }
};

/// A type-erased Task handle: every Task<T> converts to it; == compares identity.
class TaskRef {
 public:
  explicit TaskRef(detail::FutureBase* task) noexcept : task_(task) { task_->add_ref(); }
  TaskRef(const TaskRef& other) noexcept : TaskRef(other.task_) {}
  TaskRef(TaskRef&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  TaskRef& operator=(TaskRef other) noexcept {
    std::swap(task_, other.task_);
    return *this;
  }
  ~TaskRef() {
    if (task_) task_->release();
  }

  std::string get_name() const { return task_->name(); }
  void set_name(std::string name) { task_->set_name(std::move(name)); }
  bool done() const noexcept { return task_->done(); }
  bool cancelled() const noexcept { return task_->cancelled(); }
  bool cancel(std::string msg = {}) { return task_->request_cancel(msg); }
  std::int64_t cancelling() const noexcept { return task_->cancelling(); }
  std::int64_t uncancel() noexcept { return task_->uncancel(); }
  /// As Task::exception(): InvalidStateError while pending, CancelledError if cancelled.
  std::exception_ptr exception() const { return task_->exception(); }
  EventLoop& get_loop() const noexcept { return task_->loop(); }
  /// As Task::get_context().
  Context get_context() const { return detail::ContextAccess::make(task_->own_context()); }
  /// As Task::repr(): "<Task pending name='Task-1' coro=<main()>>".
  std::string repr() const { return task_->repr(); }

  friend bool operator==(const TaskRef& a, const TaskRef& b) noexcept { return a.task_ == b.task_; }
  template <class T>
  friend bool operator==(const TaskRef& a, const Task<T>& b) noexcept {
    return a == static_cast<TaskRef>(b);
  }

  detail::FutureBase* core() const noexcept { return task_; }

 private:
  detail::FutureBase* task_;
};

template <class T>
Task<T>::operator TaskRef() const noexcept {
  return TaskRef(&task());
}

namespace detail {
/// Gives `task` a copy of the current context, if that has any variable set.
void copy_current_context_into(FutureBase& task);

template <class T>
std::coroutine_handle<Promise<T>> take_for_task(Coro<T>& coro) {
  auto h = coro.release();
  if (!h) throw RuntimeError("create_task(): the Coro is empty (moved from, or already a task)");
  return h;
}

/// Makes the coroutine a task on `loop`. With the eager task factory its first step runs here,
/// once the returned handle holds the task (it may finish in that step).
template <class T>
Task<T> start_as_task(EventLoop& loop, std::coroutine_handle<Promise<T>> h,
                      EagerStart eager = EagerStart::factory) {
  struct Destroy {  // create_task failed (closed loop, reused Coro): the frame is ours to free
    std::coroutine_handle<Promise<T>> h;
    ~Destroy() {
      if (h) h.destroy();
    }
  } guard{h};
  if (!h.promise().has_context() && context_may_be_set()) [[unlikely]]
    copy_current_context_into(h.promise());
  const bool run_now = h.promise().start_task(loop, eager);
  guard.h = nullptr;
  Task<T> task(Future<T>::adopt, &h.promise());
  if (run_now) [[unlikely]]
    h.promise().run();
  return task;
}
}  // namespace detail

/// Makes `coro` a task on `loop` (what loop.create_task does).
template <class T>
Task<T> make_task(EventLoop& loop, Coro<T>&& coro) {
  return detail::start_as_task(loop, detail::take_for_task(coro));
}
/// The same, named (before an eager first step), and running in `context` (null: a copy of the
/// current context).
template <class T>
Task<T> make_task(EventLoop& loop, Coro<T>&& coro, std::string name,
                  std::shared_ptr<detail::ContextState> context = nullptr,
                  detail::EagerStart eager = detail::EagerStart::factory) {
  auto h = detail::take_for_task(coro);
  try {
    if (!name.empty()) h.promise().set_name(std::move(name));
    if (context) h.promise().set_context(std::move(context));
  } catch (...) {
    h.destroy();
    throw;
  }
  return detail::start_as_task(loop, h, eager);
}
/// The same, with asyncio's keywords.
template <class T>
Task<T> make_task(EventLoop& loop, Coro<T>&& coro, TaskOptions options) {
  using detail::EagerStart;
  const EagerStart eager = !options.eager_start   ? EagerStart::factory
                           : *options.eager_start ? EagerStart::yes
                                                  : EagerStart::no;
  return make_task(loop, std::move(coro), std::move(options.name),
                   options.context ? detail::ContextAccess::state(*options.context) : nullptr,
                   eager);
}

/// asyncio.create_task(): schedules the Coro on the running loop.
template <class T>
Task<T> create_task(Coro<T> coro) {
  return make_task(detail::running_loop(), std::move(coro));
}
template <class T>
Task<T> create_task(Coro<T> coro, std::string name) {
  return make_task(detail::running_loop(), std::move(coro), std::move(name));
}
/// create_task(coro, name=..., context=ctx): the task runs in `context` itself, not a copy.
template <class T>
Task<T> create_task(Coro<T> coro, std::string name, Context context) {
  return make_task(detail::running_loop(), std::move(coro), std::move(name),
                   detail::ContextAccess::state(context));
}

/// create_task(coro, {.name = ..., .context = ..., .eager_start = ...}).
template <class T>
Task<T> create_task(Coro<T> coro, TaskOptions options) {
  return make_task(detail::running_loop(), std::move(coro), std::move(options));
}

/// create_task() of any other awaitable (a Future, an awaitable method's result...).
template <class A>
requires(detail::Awaitable<A> && !std::is_reference_v<A>) auto create_task(A aw,
                                                                           std::string name = {}) {
  return make_task(detail::running_loop(), detail::await_in_coro(std::move(aw)), std::move(name));
}
template <class A>
requires(detail::Awaitable<A> && !detail::IsCoro<A>::value &&
         !std::is_reference_v<A>) auto create_task(A aw, TaskOptions options) {
  return make_task(detail::running_loop(), detail::await_in_coro(std::move(aw)),
                   std::move(options));
}

/// asyncio.current_task(): nullopt outside a task; RuntimeError when no loop runs.
std::optional<TaskRef> current_task();
/// asyncio.all_tasks(): the running loop's unfinished tasks.
std::vector<TaskRef> all_tasks();

namespace detail {
/// ensure_future() on a given loop: what gather() and run_until_complete() use.
template <class A>
auto ensure_future_on(EventLoop& loop, A&& aw) {
  using D = std::remove_cvref_t<A>;
  if constexpr (IsFuture<D>::value) {
    return D(std::forward<A>(aw));
  } else if constexpr (IsCoro<D>::value) {
    return make_task(loop, D(std::move(aw)));  // a Coro is consumed, as asyncio's coroutines are
  } else {
    static_assert(Awaitable<D>, "ensure_future(): not an awaitable");
    return make_task(loop, await_in_coro(D(std::forward<A>(aw))));
  }
}
}  // namespace detail

/// asyncio.ensure_future(): a Future or Task as it is; a Coro (or other awaitable) wrapped in a
/// task on the running loop (outside one: get_event_loop()).
template <class A>
auto ensure_future(A&& aw) {
  if constexpr (detail::IsFuture<std::remove_cvref_t<A>>::value) {
    return std::remove_cvref_t<A>(std::forward<A>(aw));
  } else {
    return detail::ensure_future_on(detail::running_or_current_loop(), std::forward<A>(aw));
  }
}

}  // namespace aio
