// aio/wait_for.hpp — asyncio.wait_for(aw, timeout): a timeout (aio/timeout.hpp) with asyncio's
// special case for a timeout <= 0 (a done awaitable gives its result, else it is cancelled).
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/awaitable.hpp"
#include "aio/duration.hpp"
#include "aio/future.hpp"
#include "aio/task.hpp"
#include "aio/timeout.hpp"

namespace aio {

namespace detail {

template <class T>
Coro<T> wait_for_now(Future<T> f) {
  // asyncio's wait_for(timeout <= 0): a done future gives its result; else cancel, wait, and
  // report TimeoutError.
  if (!f.done()) {
    f.cancel();
    co_await DoneAwaiter(*f.core(), false);
    if (f.cancelled()) throw TimeoutError("wait_for(): timed out");
  }
  co_return co_await await_in_coro(std::move(f));
}

}  // namespace detail

/// asyncio.wait_for(aw, timeout): TimeoutError after `timeout` seconds, once the cancelled
/// inner operation has finished; nullopt waits without limit.
template <class A>
auto wait_for(A&& aw, std::optional<Duration> timeout) {
  using T = detail::await_result_t<std::remove_cvref_t<A>>;
  if (timeout && timeout->seconds() <= 0) {
    return detail::wait_for_now(Future<T>(ensure_future(std::forward<A>(aw))));
  }
  return Timeout::after(timeout).run(detail::as_coro(std::forward<A>(aw)));
}

}  // namespace aio
