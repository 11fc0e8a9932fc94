// contextvars: the context each thread and each task runs in (aio/contextvars.hpp).
//
// A task keeps its context in its extras (most tasks have none: they were created where no
// variable was set), so the task object does not grow. The thread state says which context is
// current; null inside a task means the task's own, looked up (or, still empty, made) only when
// the step first uses it, so a step that touches no variable costs nothing.
#include <atomic>
#include <memory>
#include <utility>

#include "aio/contextvars.hpp"
#include "aio/detail/task_core.hpp"

namespace aio::detail {

namespace {
// The thread's own context, freed when the thread exits.
thread_local std::unique_ptr<ContextState> thread_context_owner;
std::atomic<std::uint64_t> context_var_ids{0};
}  // namespace

ContextState& current_context() {
  ThreadState& ts = this_thread;
  if (ts.context) return *ts.context;
  if (TaskCore* task = ts.current_task) {
    ts.context = &task->own_context();  // until the step ends
    return *ts.context;
  }
  if (!ts.thread_context) {
    thread_context_owner = std::make_unique<ContextState>();
    ts.thread_context = thread_context_owner.get();
  }
  return *ts.thread_context;
}

std::shared_ptr<ContextState> copy_of_current_context() {
  ThreadState& ts = this_thread;
  const ContextState* current = ts.context;
  if (!current) {
    if (TaskCore* task = ts.current_task) {
      // The task's own context, looked up now (and kept until the step ends) if it has one.
      if (task->has_context()) current = ts.context = &task->own_context();
    } else {
      current = ts.thread_context;
    }
  }
  if (!current || !current->vars || current->vars->empty()) return nullptr;
  auto copy = std::make_shared<ContextState>();
  copy->vars = current->vars;
  return copy;
}

void copy_current_context_into(FutureBase& task) {
  if (auto copy = copy_of_current_context()) task.set_context(std::move(copy));
}

std::uint64_t new_context_var_id() noexcept {
  return context_var_ids.fetch_add(1, std::memory_order_relaxed) + 1;
}

EnterContext::EnterContext(ContextState* state) noexcept
    : previous_(std::exchange(this_thread.context, state)) {}

EnterContext::~EnterContext() {
  this_thread.context = previous_;
}

void FutureBase::set_context(std::shared_ptr<ContextState> context) {
  extras().context = std::move(context);
  has_context_ = true;
}

ContextState& FutureBase::own_context() {
  if (!has_context_) set_context(std::make_shared<ContextState>());
  return *find_extras()->context;
}

std::shared_ptr<ContextState> FutureBase::context_for_handle() {
  own_context();
  return find_extras()->context;
}

const std::shared_ptr<ContextState>* FutureBase::shared_context() const noexcept {
  const FutureExtras* e = has_context_ ? find_extras() : nullptr;
  return e ? &e->context : nullptr;
}

}  // namespace aio::detail
