// aio/detail/awaitable.hpp — what "awaitable" means to the library's templates.
//
// asyncio accepts any awaitable where it takes a coroutine (create_task(q.get()), gather(...)),
// so aio's templates take anything `co_await` accepts: an object with await_ready/suspend/
// resume, or one with an operator co_await (member or free).
#pragma once

#include <concepts>
#include <coroutine>
#include <type_traits>
#include <utility>

namespace aio::detail {

template <class A>
concept DirectAwaiter = requires(A a, std::coroutine_handle<> h) {
  { a.await_ready() } -> std::convertible_to<bool>;
  a.await_suspend(h);
  a.await_resume();
};

template <class A>
concept HasMemberCoAwait = requires(A&& a) {
  std::forward<A>(a).operator co_await();
};

template <class A>
concept HasFreeCoAwait = requires(A&& a) {
  operator co_await(std::forward<A>(a));
};

template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (HasMemberCoAwait<A>) {
    return std::forward<A>(a).operator co_await();
  } else if constexpr (HasFreeCoAwait<A>) {
    return operator co_await(std::forward<A>(a));
  } else {
    return std::forward<A>(a);
  }
}

template <class A>
concept Awaitable = HasMemberCoAwait<A> || HasFreeCoAwait<A> || DirectAwaiter<A>;

/// The type `co_await std::declval<A>()` produces.
template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());

}  // namespace aio::detail
