// aio/run_on.hpp — calls between loops: run a coroutine or a function on another loop.
//
// asyncio has one loop per thread and run_coroutine_threadsafe() to reach another from a plain
// thread (a concurrent.futures.Future, which blocks). Between two loops each running tasks,
// aio offers the awaitable form:
//
//   int n = co_await aio::run_on(other_loop, count_keys());    // a task there, awaited here
//   co_await aio::call_on(other_loop, [&] { table.clear(); }); // a plain function there
//
// run_on() runs `coro` as a task on `loop` and resumes the caller, on its own loop, with the
// task's value or exception. Cancelling the caller cancels that task and waits for it to end,
// as awaiting a task does (its CancelledError, or its value if it declines). call_on() runs
// `fn()` as a callback on `loop`. Each allocates nothing but the coroutine's frame: the call's
// state lives in the caller's frame, and a sleeping target is woken once per batch of calls.
// A target that is closed, or shutting down (a LoopThread being stopped), is a RuntimeError;
// one that closes while the call is out ends it with a RuntimeError that says so. On the
// caller's own loop, run_on() is `co_await create_task(coro)`. Both need a running task.
#pragma once

#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/remote_call.hpp"
#include "aio/loop.hpp"

namespace aio {

/// `co_await run_on(loop, coro)`: `coro` as a task on `loop`; its value or exception here.
template <class T>
detail::RunOnAwaiter<T> run_on(EventLoop& loop, Coro<T> coro) noexcept {
  return detail::RunOnAwaiter<T>(loop, std::move(coro));
}

/// `co_await call_on(loop, fn)`: fn() as a callback on `loop`; its value or exception here.
template <class F>
requires std::is_invocable_v<F&> detail::CallOnAwaiter<F> call_on(EventLoop& loop, F fn) {
  return detail::CallOnAwaiter<F>(loop, std::move(fn));
}

}  // namespace aio
