// aio/contextvars.hpp — Python's contextvars, as asyncio's tasks use them.
//
//   aio::ContextVar<std::string> request_id("request_id", "none");
//   auto token = request_id.set("r-17");   // this task's context only
//   request_id.get();                      // "r-17"
//   request_id.reset(token);
//
// A Context maps ContextVars to values. Each thread has one; a task runs in a copy of the
// context that was current where it was created (or in the Context given to create_task), so
// what a task sets is seen by the tasks it creates afterwards and by no one else; Runner keeps
// one context across its run() calls, and to_thread() runs its function in a copy. Copying a
// context is cheap (values are shared until one side sets a variable), and code that never sets
// a variable pays nothing for any of this.
//
// Loop callbacks (call_soon, call_later, call_soon_threadsafe, done callbacks) run in a copy of
// the context they were scheduled from, as asyncio's do. Differences from Python:
// Context::get() returns std::optional instead of raising, and a missing value without a default
// is std::out_of_range (LookupError).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/detail/thread_state.hpp"
#include "aio/errors.hpp"

namespace aio {

class Context;
template <class T>
class ContextVar;

namespace detail {

/// Values by variable id. Immutable once shared: setting a variable copies the map.
using ContextVars = std::map<std::uint64_t, std::shared_ptr<const void>>;

struct ContextState {
  std::shared_ptr<const ContextVars> vars;  // null: empty
  std::atomic<bool> entered{false};         // Context::run() is inside it
};

/// The context code on this thread runs in now (a task's, a Context::run()'s or the thread's
/// own), made on first use; never null.
ContextState& current_context();
/// A copy of the current context, for a task or a callback created now; null when no variable
/// is set there (a task then gets an empty context of its own if it sets one).
std::shared_ptr<ContextState> copy_of_current_context();
/// Whether the current context may have a variable set. The common case, nothing set anywhere,
/// is decided here, inline, so that creating tasks and callbacks costs nothing for it.
inline bool context_may_be_set() noexcept {
  const ThreadState& ts = this_thread;
  if (ts.context) return true;
  return ts.current_task ? ts.current_task->has_context() : ts.thread_context != nullptr;
}
std::uint64_t new_context_var_id() noexcept;

/// The state behind a Context handle (what create_task(coro, name, context) runs the task in).
struct ContextAccess {
  static const std::shared_ptr<ContextState>& state(const Context& c) noexcept;
  static Context make(std::shared_ptr<ContextState> state);
};

}  // namespace detail

/// contextvars.Context: a mapping of ContextVars to values. A copy of the handle is the same
/// context; copy() makes a new one with the same values.
class Context {
 public:
  /// An empty context.
  Context() : state_(std::make_shared<detail::ContextState>()) {}

  /// A new context with this one's values.
  Context copy() const {
    Context c;
    c.state_->vars = state_->vars;
    return c;
  }
  /// Calls fn(args...) with this context current, and returns what it returns. RuntimeError if
  /// the context is already entered (by this or another thread's run()).
  template <class F, class... A>
  decltype(auto) run(F&& fn, A&&... args);

  /// The number of variables set in it.
  std::size_t size() const noexcept { return state_->vars ? state_->vars->size() : 0; }
  /// The context's value of `var` (not its default); nullopt when unset.
  template <class T>
  std::optional<T> get(const ContextVar<T>& var) const;

  friend bool operator==(const Context& a, const Context& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  template <class T>
  friend class ContextVar;
  friend Context copy_context();
  friend struct detail::ContextAccess;
  explicit Context(std::shared_ptr<detail::ContextState> state) : state_(std::move(state)) {}

  std::shared_ptr<detail::ContextState> state_;
};

/// contextvars.copy_context(): a copy of the current context.
inline Context copy_context() {
  Context c;
  c.state_->vars = detail::current_context().vars;
  return c;
}

/// What ContextVar::set() returns, for reset().
template <class T>
class Token {
 public:
  /// The value before set(), or nullopt if the variable was unset (Token.MISSING).
  const std::optional<T>& old_value() const noexcept { return old_; }

 private:
  template <class U>
  friend class ContextVar;
  Token(std::uint64_t var, const detail::ContextState* context, std::optional<T> old)
      : var_(var), context_(context), old_(std::move(old)) {}

  std::uint64_t var_;
  const detail::ContextState* context_;
  std::optional<T> old_;
  std::shared_ptr<bool> used_ = std::make_shared<bool>(false);
};

/// contextvars.ContextVar<T>: a variable whose value depends on the context code runs in.
template <class T>
class ContextVar {
  static_assert(std::is_copy_constructible_v<T>, "a ContextVar's values are copied");

 public:
  explicit ContextVar(std::string name) : name_(std::move(name)) {}
  ContextVar(std::string name, T default_value)
      : name_(std::move(name)), default_(std::move(default_value)) {}
  ContextVar(const ContextVar&) = delete;
  ContextVar& operator=(const ContextVar&) = delete;

  const std::string& name() const noexcept { return name_; }

  /// The value in the current context, else the default; std::out_of_range (Python's
  /// LookupError) when there is neither.
  T get() const {
    if (const T* v = find(detail::current_context())) return *v;
    if (default_) return *default_;
    throw std::out_of_range("ContextVar '" + name_ + "' has no value");
  }
  T get(T fallback) const {
    if (const T* v = find(detail::current_context())) return *v;
    return fallback;
  }

  /// Sets the value in the current context; the Token undoes it.
  Token<T> set(T value) {
    detail::ContextState& ctx = detail::current_context();
    std::optional<T> old;
    if (const T* v = find(ctx)) old = *v;
    auto vars = ctx.vars ? std::make_shared<detail::ContextVars>(*ctx.vars)
                         : std::make_shared<detail::ContextVars>();
    (*vars)[id_] = std::make_shared<const T>(std::move(value));
    ctx.vars = std::move(vars);
    return Token<T>(id_, &ctx, std::move(old));
  }

  /// Restores the value from before `token`'s set(). RuntimeError for a token used already;
  /// std::invalid_argument (ValueError) for one of another variable or another context.
  void reset(const Token<T>& token) {
    if (*token.used_) throw RuntimeError("Token has already been used once");
    if (token.var_ != id_)
      throw std::invalid_argument("Token was created by a different ContextVar");
    detail::ContextState& ctx = detail::current_context();
    if (token.context_ != &ctx)
      throw std::invalid_argument("Token was created in a different Context");
    auto vars = std::make_shared<detail::ContextVars>(ctx.vars ? *ctx.vars : detail::ContextVars{});
    if (token.old_) {
      (*vars)[id_] = std::make_shared<const T>(*token.old_);
    } else {
      vars->erase(id_);
    }
    ctx.vars = std::move(vars);
    *token.used_ = true;
  }

 private:
  friend class Context;
  const T* find(const detail::ContextState& ctx) const {
    if (!ctx.vars) return nullptr;
    auto it = ctx.vars->find(id_);
    return it == ctx.vars->end() ? nullptr : static_cast<const T*>(it->second.get());
  }

  std::string name_;
  std::optional<T> default_;
  std::uint64_t id_ = detail::new_context_var_id();
};

template <class T>
std::optional<T> Context::get(const ContextVar<T>& var) const {
  if (const T* v = var.find(*state_)) return *v;
  return std::nullopt;
}

namespace detail {
/// Makes `state` current until the guard goes (what a task step and Context::run() do).
class EnterContext {
 public:
  explicit EnterContext(ContextState* state) noexcept;
  ~EnterContext();
  EnterContext(const EnterContext&) = delete;
  EnterContext& operator=(const EnterContext&) = delete;

 private:
  ContextState* previous_;
};
}  // namespace detail

inline const std::shared_ptr<detail::ContextState>& detail::ContextAccess::state(
    const Context& c) noexcept {
  return c.state_;
}
inline Context detail::ContextAccess::make(std::shared_ptr<ContextState> state) {
  return Context(std::move(state));
}

namespace detail {
/// A callback that runs in the context it was scheduled from (asyncio's Handle and done
/// callbacks keep a copy_context() taken when they are made).
template <class F>
struct InContext {
  std::shared_ptr<ContextState> context;
  F fn;
  template <class... A>
  decltype(auto) operator()(A&&... args) {
    EnterContext enter(context.get());
    return fn(std::forward<A>(args)...);
  }
};

/// make(fn), or make(InContext{copy, fn}) where the current context has a variable set: how
/// callbacks are made (`make` returns the one base pointer both kinds convert to).
template <class F, class Make>
auto in_current_context(F&& fn, Make&& make) {
  if (context_may_be_set()) [[unlikely]] {
    if (auto context = copy_of_current_context()) {
      return make(InContext<std::decay_t<F>>{std::move(context), std::forward<F>(fn)});
    }
  }
  return make(std::forward<F>(fn));
}
}  // namespace detail

template <class F, class... A>
decltype(auto) Context::run(F&& fn, A&&... args) {
  if (state_->entered.exchange(true)) {
    throw RuntimeError("cannot enter context: it is already entered");
  }
  struct Leave {
    detail::ContextState& s;
    ~Leave() { s.entered = false; }
  } leave{*state_};
  detail::EnterContext enter(state_.get());
  return std::forward<F>(fn)(std::forward<A>(args)...);
}

}  // namespace aio
