// TaskGroup: asyncio 3.13's taskgroups.py, rule for rule (the comments name its cases).
#include "aio/task_group.hpp"

namespace aio::detail {

namespace {

bool is_cancellation(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const CancelledError&) {
    return true;
  } catch (...) {
    return false;
  }
}

bool is_base_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const KeyboardInterrupt&) {
    return true;
  } catch (...) {
    return false;
  }
}

TaskRef parent_task() {
  std::optional<TaskRef> task = current_task();  // RuntimeError when no loop runs
  if (!task) throw RuntimeError("TaskGroup cannot determine the parent task");
  return *task;
}

}  // namespace

TaskGroupState::TaskGroupState() : loop_(&get_running_loop()), parent_(parent_task()) {}

void TaskGroupState::check_can_create() const {
  if (exiting_ && tasks_.empty()) throw RuntimeError("TaskGroup is finished");
  if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

std::list<TaskRef>::iterator TaskGroupState::track(TaskRef task) {
  task.core()->add_awaited_by(*parent_.core());  // asyncio 3.14: the parent awaits its tasks
  return tasks_.insert(tasks_.end(), std::move(task));
}

void TaskGroupState::abort() {
  aborting_ = true;
  for (TaskRef& t : tasks_) {
    if (!t.done()) t.cancel();
  }
}

void TaskGroupState::task_done(std::list<TaskRef>::iterator it) {
  TaskRef task = std::move(*it);
  tasks_.erase(it);
  task.core()->discard_awaited_by(*parent_.core());
  if (on_completed_ && tasks_.empty() && !on_completed_->done()) on_completed_->set_result();
  if (task.cancelled()) return;
  std::exception_ptr error = task.exception();
  if (!error) return;
  errors_.push_back(error);
  if (!base_error_ && is_base_error(error)) base_error_ = error;
  if (parent_.done()) {
    loop_->call_exception_handler(
        {"Task has errored out but its parent task is already completed", error, task});
    return;
  }
  if (!aborting_ && !parent_cancel_requested_) {
    // The first failure: cancel the siblings and the body (by cancelling the parent task,
    // whose cancellation exit() then takes back).
    abort();
    parent_cancel_requested_ = true;
    parent_.cancel();
  }
}

void TaskGroupState::cancel() {
  if (exiting_ && tasks_.empty()) return;  // the group has ended
  if (aborting_) return;
  abort();
  if (!parent_cancel_requested_) {
    // The body (or exit(), waiting for the tasks) is cancelled through the parent task, and
    // exit() takes that cancellation back, as it does for the first failure.
    parent_cancel_requested_ = true;
    parent_.cancel();
  }
}

Coro<void> TaskGroupState::exit(std::exception_ptr error) {
  exiting_ = true;
  if (error && !base_error_ && is_base_error(error)) base_error_ = error;
  std::exception_ptr propagate_cancellation = error && is_cancellation(error) ? error : nullptr;
  // The parent is being cancelled, or the body failed: cancel the tasks.
  if (error && !aborting_) abort();

  while (!tasks_.empty()) {
    if (!on_completed_) on_completed_ = loop_->create_future<void>();
    std::exception_ptr cancelled;
    try {
      co_await *on_completed_;
    } catch (const CancelledError&) {
      cancelled = std::current_exception();
    }
    if (cancelled && !aborting_) {
      // The parent was cancelled while the group waited for its tasks.
      propagate_cancellation = cancelled;
      abort();
    }
    on_completed_.reset();
  }

  if (base_error_) std::rethrow_exception(base_error_);
  // The flag says we cancelled the parent ourselves: take that request back.
  if (parent_cancel_requested_ && parent_.uncancel() == 0) propagate_cancellation = nullptr;
  // A cancellation goes out unless there are errors: those have priority.
  if (propagate_cancellation && errors_.empty()) std::rethrow_exception(propagate_cancellation);
  if (error && !is_cancellation(error)) errors_.push_back(error);
  if (!errors_.empty()) {
    // Cancelled from outside as well: uncancel and re-cancel keeps the count stable.
    if (parent_.cancelling() > 0) {
      parent_.uncancel();
      parent_.cancel();
    }
    throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
  }
}

}  // namespace aio::detail
