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
#include "aio/detail/thread_state.hpp"
#include "task/future_extras.hpp"

namespace aio::detail {

namespace {
// The thread's own context, freed when the thread exits.
thread_local std::unique_ptr<ContextState> thread_context_owner;
// The context of the loop callback running now, once it sets a variable.
thread_local std::unique_ptr<ContextState> callback_context;
std::atomic<std::uint64_t> context_var_ids{0};
}  // namespace

namespace {
// The current context if it exists: null for a task's or the thread's own that is not made yet.
// A task's is looked up once per step, then kept in the thread state until the step ends.
ContextState* existing_context() {
  ThreadState& ts = this_thread;
  if (ts.context) return ts.context;
  FutureBase* task = ts.current_task;
  if (!task) return ts.running_loop ? nullptr : ts.thread_context;  // a callback's: empty
  if (task->has_context()) ts.context = task->own_context().get();
  return ts.context;
}
}  // namespace

ContextState& current_context() {
  if (ContextState* context = existing_context()) return *context;
  ThreadState& ts = this_thread;
  if (FutureBase* task = ts.current_task) return *(ts.context = task->own_context().get());
  if (ts.running_loop) {
    callback_context = std::make_unique<ContextState>();
    return *(ts.context = callback_context.get());
  }
  thread_context_owner = std::make_unique<ContextState>();
  return *(ts.thread_context = thread_context_owner.get());
}

std::shared_ptr<ContextState> copy_of_current_context() {
  const ContextState* current = existing_context();
  if (!current || !current->vars || current->vars->empty()) return nullptr;
  auto copy = std::make_shared<ContextState>();
  copy->vars = current->vars;
  return copy;
}

void copy_current_context_into(FutureBase& task) {
  if (auto copy = copy_of_current_context()) task.set_context(std::move(copy));
}

void CallbackContextScope::leave_callback_context() noexcept {
  if (this_thread.context == callback_context.get()) callback_context.reset();
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

const std::shared_ptr<ContextState>& FutureBase::own_context() {
  if (!has_context_) set_context(std::make_shared<ContextState>());
  return find_extras()->context;
}

const std::shared_ptr<ContextState>* FutureBase::shared_context() const noexcept {
  const FutureExtras* e = has_context_ ? find_extras() : nullptr;
  return e ? &e->context : nullptr;
}

}  // namespace aio::detail
