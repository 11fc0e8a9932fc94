// aio/detail/loop_templates.hpp — the definitions of EventLoop's member templates (loop.hpp
// declares them and includes this at its end): running until an awaitable is done, executors,
// callbacks. The connection factories' are in aio/detail/connection_templates.hpp.
#pragma once

#include "aio/detail/thread_state.hpp"
#include "aio/loop.hpp"

namespace aio {

template <class A>
auto EventLoop::run_until_complete(A&& aw) {
  using D = std::remove_cvref_t<A>;
  // A caller's own Future/Task keeps its value; anything else is ours to move out of.
  constexpr bool shared = detail::IsFuture<D>::value && std::is_lvalue_reference_v<A>;
  check_open();
  auto future = detail::ensure_future_on(*this, std::forward<A>(aw));
  run_until_done(*future.core());
  if constexpr (shared) {
    return std::remove_cvref_t<decltype(future.core()->get())>(future.core()->get());
  } else {
    return future.core()->take();
  }
}

template <class F>
auto EventLoop::run_in_executor(Executor* executor, F fn) {
  using R = std::invoke_result_t<F&>;
  check_open();
  Executor& runner = executor ? *executor : default_executor();
  Future<R> future = create_future<R>();
  // The worker never touches the future (its reference count is this thread's): it hands the
  // outcome back through call_soon_threadsafe, with the reference taken here.
  detail::FutureCore<R>* core = future.core();
  core->add_ref();
  // A job whose future is cancelled before a worker takes it never runs (concurrent.futures'
  // cancel() of a pending job, which asyncio chains to the future's cancellation).
  auto start = std::make_shared<detail::JobStart>();
  try {
    runner.submit([this, core, start, fn = std::move(fn)]() mutable {
      std::optional<Outcome<R>> outcome;
      if (start->begin()) {
        try {
          if constexpr (std::is_void_v<R>) {
            fn();
            outcome.emplace();
          } else {
            outcome.emplace(fn());
          }
        } catch (...) {
          outcome.emplace(std::current_exception());
        }
      }
      try {
        detail::this_thread.delivering_result = true;
        call_soon_threadsafe([this, core, outcome = std::move(outcome)]() mutable {
          --counters_.executor_jobs;
          Future<R> f(Future<R>::adopt, core);
          core->release();
          if (f.done() || !outcome) return;  // cancelled meanwhile
          if (!outcome->has_value()) {
            f.set_exception(outcome->exception());
          } else if constexpr (std::is_void_v<R>) {
            f.set_result();
          } else {
            f.set_result(std::move(*outcome).value());
          }
        });
      } catch (...) {
        // The loop closed while fn ran: nobody can take the result (the reference is left).
      }
      detail::this_thread.delivering_result = false;
    });
  } catch (...) {
    core->release();
    throw;
  }
  ++counters_.executor_jobs;
  future.add_done_callback([start](Future<R>& f) {
    if (f.cancelled()) start->cancel();
  });
  return future;
}

namespace detail {
/// A handle of kind H for `fn`, which runs in `context` itself when one is given (asyncio's
/// context= argument), else in a copy of the current context when that has a variable set
/// (asyncio's Handle keeps a copy_context()).
template <template <class> class H, class F>
HandleState* new_handle(EventLoop& loop, F&& fn, const Context* context) {
  if (context) {
    using G = InContext<std::decay_t<F>>;
    return new H<G>(loop, G{ContextAccess::state(*context), std::forward<F>(fn)});
  }
  return in_current_context(std::forward<F>(fn), [&](auto&& f) -> HandleState* {
    return new H<std::decay_t<decltype(f)>>(loop, std::forward<decltype(f)>(f));
  });
}
}  // namespace detail

template <class F>
Handle EventLoop::call_soon_in(F fn, const Context* context) {
  check_open();
  check_thread();
  auto* h = detail::new_handle<detail::CallbackHandle>(*this, std::move(fn), context);
  Handle handle(h);
  ready_.push(h);
  return handle;
}

template <class F>
TimerHandle EventLoop::call_at_in(double when, F fn, const Context* context) {
  check_open();
  check_thread();
  auto* h = detail::new_handle<detail::CallbackHandle>(*this, std::move(fn), context);
  h->set_when(when);
  TimerHandle handle(h);
  ++counters_.timers_armed;
  timers_.push(h, when);
  return handle;
}

template <class F>
Handle EventLoop::call_soon_threadsafe_in(F fn, const Context* context) {
  auto* h = detail::new_handle<detail::ForeignCallbackHandle>(*this, std::move(fn), context);
  Handle handle(h);
  schedule_threadsafe(h);
  return handle;
}

}  // namespace aio
