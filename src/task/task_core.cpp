// Task steps and cancellation: asyncio's Task.__step / cancel / uncancel.
#include <atomic>
#include <utility>

#include "aio/detail/thread_state.hpp"
#include "aio/loop.hpp"
#include "core/loop_internals.hpp"
#include "task/future_extras.hpp"

namespace aio::detail {

namespace {
// "Task-N" numbers are process-wide and increasing, as in asyncio. Each thread takes them from
// the shared counter in blocks, so numbering a task costs no atomic operation.
std::atomic<std::uint64_t> task_counter{0};
constexpr std::uint64_t id_block = 1024;
thread_local std::uint64_t next_id = 0;
thread_local std::uint64_t last_id = 0;

std::uint64_t new_task_id() noexcept {
  if (next_id == last_id) {
    next_id = task_counter.fetch_add(id_block, std::memory_order_relaxed);
    last_id = next_id + id_block;
  }
  return ++next_id;
}
}  // namespace

FutureBase& FutureBase::current() {
  if (FutureBase* task = this_thread.current_task) return *task;
  throw RuntimeError(this_thread.running_loop ? "co_await outside of a task"
                                              : "co_await outside of a running event loop");
}

bool FutureBase::start(EventLoop& loop, EagerStart eager) {
  if (loop.is_closed()) throw RuntimeError("Event loop is closed");
  loop_ = &loop;
  id_ = new_task_id();
  refs_ = 1;  // the loop's reference, until the task finishes
  // Linked first: an eager step already counts among all_tasks(), as in asyncio.
  LoopInternals::link_task(loop, this);
  if (LoopInternals::starts_tasks_eagerly(loop, eager)) [[unlikely]]
    return true;
  LoopAccess::schedule(loop, this);
  return false;
}

void FutureBase::run() {
  hook_ = nullptr;
  if (must_cancel_) {
    must_cancel_ = false;
    if (!started_) {
      cancel_before_start();
      return;
    }
    deliver_cancel_ = true;
  }
  started_ = true;
  ++LoopAccess::counters(*loop_).steps;
  ThreadState& ts = this_thread;
  FutureBase* previous = std::exchange(ts.current_task, this);
  // The task's context is looked up only when the step uses it (detail::current_context()).
  ContextState* previous_context = std::exchange(ts.context, nullptr);
  resume_point_.resume();  // may finish the task and free *this
  ts.current_task = previous;
  ts.context = previous_context;
}

// Cancelled before its first step: the body never runs (asyncio throws into the unstarted
// coroutine, which closes it without executing a line).
void FutureBase::cancel_before_start() noexcept {
  exception_ = std::make_exception_ptr(CancelledError(cancel_message()));
  ended_by_cancel_ = true;
  finish();
}

bool FutureBase::request_cancel(std::string_view msg) {
  if (done()) return false;
  ++extras().cancel_requests;
  // Like asyncio, the hook stays: a task that swallows this cancel may be cancelled again.
  if (hook_ && hook_->cancel(msg)) return true;
  must_cancel_ = true;
  set_cancel_message(msg);
  return true;
}

std::int64_t FutureBase::uncancel() noexcept {
  FutureExtras* e = find_extras();
  if (!e) return 0;
  if (e->cancel_requests > 0) {
    if (--e->cancel_requests == 0) must_cancel_ = false;
  }
  return e->cancel_requests;
}

void FutureBase::cancel_awaited() {
  if (hook_ && hook_->cancel(cancel_message())) must_cancel_ = false;
}

void FutureBase::throw_cancelled() {
  deliver_cancel_ = false;
  throw CancelledError(cancel_message());
}

std::string FutureBase::name() const {
  const FutureExtras* e = find_extras();
  return e && e->name ? *e->name : "Task-" + std::to_string(id_);
}

void FutureBase::set_name(std::string name) {
  extras().name = std::make_unique<std::string>(std::move(name));
}

void FutureBase::finish() noexcept {
  if (exception_ || must_cancel_) [[unlikely]] {
    settle_unusual();
  } else {
    state_ = State::finished;
  }
  LoopInternals::unlink_task(*loop_, this);
  if (callbacks_) schedule_callbacks();  // the loop is running, so this cannot fail
  release();                             // the loop's reference: may free this frame
}

// The coroutine ended by an exception, or returned after a cancellation request.
void FutureBase::settle_unusual() noexcept {
  if (!exception_) {  // cancelled, then returned without awaiting again
    must_cancel_ = false;
    state_ = State::cancelled;
  } else if (ended_by_cancel_) {
    state_ = State::cancelled;  // keeps the CancelledError that ended it
  } else {
    state_ = State::finished;
    if (ended_by_interrupt_) {
      LoopInternals::set_interrupt(*loop_, exception_);  // reported by leaving the loop
    } else {
      log_unretrieved_ = true;
    }
  }
}

std::string task_repr(const FutureBase& task, const char* function) {
  const char* state = task.cancelled()    ? "cancelled"
                      : task.done()       ? "finished"
                      : task.cancelling() ? "cancelling"  // cancel requested (and not withdrawn)
                                          : "pending";
  // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) on some chains of operator+.
  std::string repr = "<Task ";
  repr += state;
  repr += " name='";
  repr += task.name();
  repr += "' coro=<";
  repr += function;
  repr += "()>";
  if (task.done() && !task.cancelled()) {
    repr += ' ';
    repr += task.outcome_repr();
  }
  repr += '>';
  return repr;
}

}  // namespace aio::detail
