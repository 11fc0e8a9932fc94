// The future state machine shared by Future and Task.
#include "aio/detail/future_base.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "aio/detail/value_repr.hpp"
#include "aio/loop.hpp"
#include "aio/sleep.hpp"
#include "core/loop_registry.hpp"
#include "task/future_extras.hpp"

namespace aio::detail {

// The sizes docs/design.md quotes ("A task is its coroutine's promise", "Frames live in a
// per-thread arena"): a change that grows them is a change to the costs the docs state.
static_assert(sizeof(FutureBase) == 120, "docs/design.md: a FutureBase is 120 bytes");
static_assert(sizeof(Promise<std::int64_t>) == 128,
              "docs/design.md: the promise of a Coro<int64_t> is 128 bytes");
static_assert(sizeof(Sleep<>) == 24, "docs/design.md: a pending sleep takes 24 bytes of a frame");

CallbackNode* FutureBase::take_callbacks() noexcept {
  if (!callbacks_ || watcher()) {  // a watcher holds no reference: it is simply forgotten
    callbacks_ = nullptr;
    return nullptr;
  }
  CallbackNode* first = callbacks_->next_callback;
  callbacks_->next_callback = nullptr;
  callbacks_ = nullptr;
  return first;
}

std::vector<FutureBase*> FutureBase::waiters() const {
  std::vector<FutureBase*> found;
  auto add = [&found](FutureBase* f) {
    if (f && std::find(found.begin(), found.end(), f) == found.end()) found.push_back(f);
  };
  if (const Watcher* w = watcher()) {
    add(w->waiter());
  } else if (callbacks_) {
    const CallbackNode* node = callbacks_;  // the last: its successor is the first
    do {
      node = node->next_callback;
      add(node->waiter());
    } while (node != callbacks_);
  }
  if (const FutureExtras* e = find_extras()) {
    for (FutureBase* f : e->awaited_by) add(f);
  }
  return found;
}

void FutureBase::discard_callbacks() noexcept {
  CallbackNode* r = take_callbacks();
  while (r) {
    CallbackNode* next = std::exchange(r->next_callback, nullptr);
    r->discard();
    r = next;
  }
}

void FutureBase::last_release() noexcept {
  if (log_unretrieved_ || (is_task_ && state_ == State::pending)) [[unlikely]]
    report_last_release();
  destroy();
}

void FutureBase::report_last_release() noexcept {
  const char* problem = nullptr;
  if (log_unretrieved_) {
    problem =
        is_task_ ? "Task exception was never retrieved" : "Future exception was never retrieved";
  } else {
    problem = "Task was destroyed but it is pending!";
  }
  ExceptionContext context{std::string(problem) + "\nfuture: " + repr(),
                           log_unretrieved_ ? exception_ : nullptr, std::nullopt};
  if (loop_ && loop_alive(loop_)) {
    loop_->call_exception_handler(context);
  } else {
    log_to_stderr(context);
  }
}

std::string FutureBase::repr() const {
  switch (state_) {
    case State::pending:
      return "<Future pending>";
    case State::cancelled:
      return "<Future cancelled>";
    case State::finished:
      break;
  }
  return "<Future finished " + outcome_repr() + ">";
}

std::string FutureBase::outcome_repr() const {
  if (state_ != State::finished) return {};
  return exception_ ? "exception=" + exception_repr(exception_) : "result=" + result_repr();
}

namespace {
// Every future's extras, by address. Futures on different threads (one loop each) share it,
// hence the lock; an entry is only ever touched by its own future's thread, and a map's
// elements stay where they are while others come and go, so a reference outlives the lock.
// Never destroyed: a future may outlive static destruction (a handle in a global).
struct ExtrasTable {
  std::mutex mutex;
  ExtrasMap map;
};
ExtrasTable& extras_table() {
  static auto* table = new ExtrasTable;
  return *table;
}
}  // namespace

const ExtrasMap& extras_map() noexcept {
  return extras_table().map;
}

FutureExtras& FutureBase::extras() {
  ExtrasTable& table = extras_table();
  std::lock_guard lock(table.mutex);
  FutureExtras& e = table.map[this];
  has_extras_ = true;
  return e;
}

FutureExtras* FutureBase::find_extras() const noexcept {
  if (!has_extras_) return nullptr;
  ExtrasTable& table = extras_table();
  std::lock_guard lock(table.mutex);
  return &table.map.find(this)->second;
}

std::string FutureBase::name_by_address(const FutureBase* task, std::uint64_t id) {
  ExtrasTable& table = extras_table();
  std::lock_guard lock(table.mutex);
  auto it = table.map.find(task);
  if (it != table.map.end() && it->second.name) return *it->second.name;
  return "Task-" + std::to_string(id);
}

std::int64_t FutureBase::cancel_requests() const noexcept {
  const FutureExtras* e = find_extras();
  return e ? e->cancel_requests : 0;
}

void FutureBase::drop_extras() noexcept {
  ExtrasTable& table = extras_table();
  std::vector<FutureBase*> waiters;
  {
    std::lock_guard lock(table.mutex);
    auto it = table.map.find(this);
    waiters = std::move(it->second.awaited_by);
    table.map.erase(it);
    has_extras_ = false;
  }
  for (FutureBase* w : waiters) w->release();  // outside the lock: it may free the waiter
}

void FutureBase::add_awaited_by(FutureBase& waiter) {
  extras().awaited_by.push_back(&waiter);
  waiter.add_ref();
}

void FutureBase::discard_awaited_by(FutureBase& waiter) noexcept {
  FutureExtras* e = find_extras();
  if (!e) return;
  auto it = std::find(e->awaited_by.begin(), e->awaited_by.end(), &waiter);
  if (it == e->awaited_by.end()) return;
  e->awaited_by.erase(it);
  waiter.release();
}

void FutureBase::set_cancel_message(std::string_view msg) {
  if (msg.empty() && !has_extras_) return;
  extras().cancel_message = msg;
}

std::string FutureBase::cancel_message() const {
  const FutureExtras* e = find_extras();
  return e ? e->cancel_message : std::string();
}

bool FutureBase::cancel_now(std::string_view msg) {
  log_unretrieved_ = false;
  if (state_ != State::pending) return false;
  state_ = State::cancelled;
  set_cancel_message(msg);
  schedule_callbacks();
  return true;
}

void FutureBase::set_exception(std::exception_ptr e) {
  if (!e) throw std::invalid_argument("set_exception(): an exception is required");
  if (state_ != State::pending)
    throw InvalidStateError("set_exception(): invalid state: future is done");
  exception_ = std::move(e);
  state_ = State::finished;
  log_unretrieved_ = true;
  schedule_callbacks();
}

void FutureBase::mark_finished() {
  state_ = State::finished;
  schedule_callbacks();
}

void FutureBase::throw_not_ok() {
  if (state_ == State::pending) throw InvalidStateError("Result is not ready.");
  log_unretrieved_ = false;
  std::rethrow_exception(state_ == State::cancelled ? cancelled_error() : exception_);
}

std::exception_ptr FutureBase::exception() {
  if (state_ == State::pending) throw InvalidStateError("Exception is not set.");
  log_unretrieved_ = false;
  if (state_ == State::cancelled) std::rethrow_exception(cancelled_error());
  return exception_;
}

std::exception_ptr FutureBase::cancelled_error() const {
  if (exception_) return exception_;  // the CancelledError that ended a task
  return std::make_exception_ptr(CancelledError(cancel_message()));
}

void FutureBase::add_callback(CallbackNode* r) {
  if (state_ != State::pending) {
    if (!r->notify_when_scheduled || r->on_scheduled(*this)) schedule_on(*loop_, r);
    return;
  }
  if (Watcher* w = watcher()) {  // the watcher becomes a node, first in the list
    CallbackNode* node = w->as_callback(*this);
    node->next_callback = node;
    callbacks_ = node;
  }
  if (callbacks_) {
    r->next_callback = callbacks_->next_callback;
    callbacks_->next_callback = r;
  } else {
    r->next_callback = r;
  }
  callbacks_ = r;
}

bool FutureBase::remove_callback(CallbackNode* r) noexcept {
  if (!callbacks_ || watcher()) return false;
  CallbackNode* prev = callbacks_;
  do {
    CallbackNode* cur = prev->next_callback;
    if (cur == r) {
      if (cur == prev) {
        callbacks_ = nullptr;  // it was the only one
      } else {
        prev->next_callback = cur->next_callback;
        if (cur == callbacks_) callbacks_ = prev;
      }
      cur->next_callback = nullptr;
      return true;
    }
    prev = cur;
  } while (prev != callbacks_);
  return false;
}

std::size_t FutureBase::remove_done_callbacks(std::uint64_t id) noexcept {
  std::vector<CallbackNode*> matches;
  if (callbacks_ && !watcher()) {
    CallbackNode* cur = callbacks_;
    do {
      cur = cur->next_callback;
      auto* callback = dynamic_cast<DoneCallbackBase*>(cur);
      if (callback && callback->id() == id) matches.push_back(cur);
    } while (cur != callbacks_);
  }
  for (CallbackNode* r : matches) {
    remove_callback(r);
    r->discard();
  }
  return matches.size();
}

void FutureBase::schedule_callbacks() {
  if (Watcher* w = watcher()) {
    callbacks_ = nullptr;
    if (loop_->is_closed()) [[unlikely]]
      throw_closed();
    w->completed(*this);
    return;
  }
  schedule_list();
}

void FutureBase::throw_closed() {
  throw RuntimeError("Event loop is closed");
}

void FutureBase::schedule_list() {
  CallbackNode* r = take_callbacks();
  if (r && loop_->is_closed()) {
    while (r) {
      CallbackNode* next = std::exchange(r->next_callback, nullptr);
      r->discard();
      r = next;
    }
    throw RuntimeError("Event loop is closed");
  }
  while (r) {
    CallbackNode* next = std::exchange(r->next_callback, nullptr);
    if (!r->notify_when_scheduled || r->on_scheduled(*this)) LoopAccess::schedule(*loop_, r);
    r = next;
  }
}

}  // namespace aio::detail
