// aio/threads.hpp — asyncio.to_thread and asyncio.run_coroutine_threadsafe.
//
// to_thread(f, args...) runs f(args...) on the running loop's default executor and completes
// with its result, without blocking the loop. run_coroutine_threadsafe(coro, loop), called
// from any other thread, runs `coro` as a task on `loop` and returns a std::future of its
// result (the thread-safe bridge out of the loop).
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/loop.hpp"

namespace aio {

/// asyncio.to_thread(): f(args...) on the default executor, in a copy of the caller's context.
template <class F, class... A>
Coro<std::invoke_result_t<F&, A&...>> to_thread(F f, A... args) {
  // A named local, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
  auto call = [context = copy_context(), f = std::move(f), ... args = std::move(args)]() mutable {
    return context.run([&]() -> decltype(auto) { return std::invoke(f, args...); });
  };
  co_return co_await get_running_loop().run_in_executor(nullptr, std::move(call));
}

namespace detail {

template <class T>
Coro<void> fulfil(Coro<T> coro, std::shared_ptr<std::promise<T>> promise) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(coro);
      promise->set_value();
    } else {
      promise->set_value(co_await std::move(coro));
    }
  } catch (...) {
    promise->set_exception(std::current_exception());  // CancelledError too
  }
}

}  // namespace detail

/// asyncio.run_coroutine_threadsafe(). Thread-safe; RuntimeError if `loop` is closed.
template <class T>
std::future<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> result = promise->get_future();
  loop.call_soon_threadsafe([&loop, promise, coro = std::move(coro)]() mutable {
    (void)loop.create_task(detail::fulfil(std::move(coro), std::move(promise)));
  });
  return result;
}

}  // namespace aio
