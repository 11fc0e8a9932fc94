// Task steps and cancellation: asyncio's Task.__step / cancel / uncancel.
#include "aio/detail/task_core.hpp"

#include <atomic>
#include <utility>

#include "aio/loop.hpp"

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

TaskCore& TaskCore::current() {
  if (TaskCore* task = this_thread.current_task) return *task;
  throw RuntimeError(this_thread.running_loop ? "co_await outside of a task"
                                              : "co_await outside of a running event loop");
}

void TaskCore::start(EventLoop& loop) {
  if (loop.is_closed()) throw RuntimeError("Event loop is closed");
  future_->loop_ = &loop;
  id_ = new_task_id();
  future_->refs_ = 1;  // the loop's reference, until the task finishes
  LoopAccess::link_task(loop, this);
  LoopAccess::schedule(loop, this);
}

void TaskCore::run() {
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
  ThreadState& ts = this_thread;
  TaskCore* previous = std::exchange(ts.current_task, this);
  resume_point_.resume();  // may finish the task and free *this
  ts.current_task = previous;
}

// Cancelled before its first step: the body never runs (asyncio throws into the unstarted
// coroutine, which closes it without executing a line).
void TaskCore::cancel_before_start() noexcept {
  future_->exception_ = std::make_exception_ptr(CancelledError(future_->cancel_message()));
  ended_by_cancel_ = true;
  finish();
}

bool TaskCore::request_cancel(std::string_view msg) {
  if (future_->done()) return false;
  ++cancel_requests_;
  // Like asyncio, the hook stays: a task that swallows this cancel may be cancelled again.
  if (hook_ && hook_->cancel(msg)) return true;
  must_cancel_ = true;
  future_->set_cancel_message(msg);
  return true;
}

std::int64_t TaskCore::uncancel() noexcept {
  if (cancel_requests_ > 0) {
    if (--cancel_requests_ == 0) must_cancel_ = false;
  }
  return cancel_requests_;
}

void TaskCore::cancel_awaited() {
  if (hook_ && hook_->cancel(future_->cancel_message())) must_cancel_ = false;
}

void TaskCore::note_cancel_message(std::string_view msg) {
  future_->set_cancel_message(msg);
}

void TaskCore::throw_cancelled() {
  deliver_cancel_ = false;
  throw CancelledError(future_->cancel_message());
}

std::string TaskCore::name() const {
  return name_ ? *name_ : "Task-" + std::to_string(id_);
}

void TaskCore::set_name(std::string name) {
  name_ = std::make_unique<std::string>(std::move(name));
}

void TaskCore::finish() noexcept {
  FutureBase& f = *future_;
  EventLoop& loop = f.loop();
  if (f.exception_) {
    if (ended_by_cancel_) {
      f.state_ = FutureBase::State::cancelled;  // keeps the CancelledError that ended it
    } else {
      f.state_ = FutureBase::State::finished;
      if (ended_by_interrupt_) {
        LoopAccess::set_interrupt(loop, f.exception_);  // reported by leaving the loop
      } else {
        f.log_unretrieved_ = true;
      }
    }
  } else if (must_cancel_) {  // cancelled, then returned without awaiting again
    must_cancel_ = false;
    f.state_ = FutureBase::State::cancelled;
  } else {
    f.state_ = FutureBase::State::finished;
  }
  LoopAccess::unlink_task(loop, this);
  f.schedule_callbacks();  // the loop is running, so this cannot fail
  f.release();             // the loop's reference: may free this frame
}

std::string task_repr(const TaskCore& task, const char* function) {
  const FutureBase& f = task.future();
  std::string state = !f.done() ? "pending" : f.cancelled() ? "cancelled" : "finished";
  return "<Task " + state + " name='" + task.name() + "' coro=<" + function + "()>>";
}

}  // namespace aio::detail
