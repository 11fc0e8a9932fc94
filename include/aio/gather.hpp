// aio/gather.hpp — asyncio.gather(): run awaitables concurrently, collect their results.
//
// gather() returns a Future at once; the children start then (Coros become tasks, in argument
// order). The future completes with the results in argument order: a tuple for the variadic
// form (a void child gives std::monostate), a vector for a range. Without return_exceptions
// the first child to fail fails the gather at once (a cancelled child counts as failing with
// CancelledError) while the others keep running; with `aio::return_exceptions` every slot is
// an Outcome<T>. Cancelling the gather's future cancels its children — asyncio's rules exactly.
#pragma once

#include <ranges>
#include <type_traits>
#include <utility>

#include "aio/detail/awaitable.hpp"
#include "aio/detail/gather.hpp"

namespace aio {

/// The tag for asyncio's gather(..., return_exceptions=True).
struct ReturnExceptions {
  explicit ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

namespace detail {

template <class A>
concept GatherArgument =
    Awaitable<std::remove_cvref_t<A>> && !std::is_same_v<std::remove_cvref_t<A>, ReturnExceptions>;

}  // namespace detail

/// gather(aws...) → Future<std::tuple<R...>>.
template <class... A>
requires(detail::GatherArgument<A>&&...) auto gather(A&&... aws) {
  return detail::gather_variadic<false>(std::forward<A>(aws)...);
}

/// gather(return_exceptions, aws...) → Future<std::tuple<Outcome<R>...>>.
template <class... A>
requires(detail::GatherArgument<A>&&...) auto gather(ReturnExceptions, A&&... aws) {
  return detail::gather_variadic<true>(std::forward<A>(aws)...);
}

/// gather(range of Coro<T> | Task<T> | Future<T>) → Future<std::vector<T>>; Coros are taken.
template <std::ranges::range Range>
requires detail::GatherElement<std::ranges::range_value_t<Range>>
auto gather(Range&& range) {
  return detail::gather_range<false>(std::forward<Range>(range));
}

template <std::ranges::range Range>
requires detail::GatherElement<std::ranges::range_value_t<Range>>
auto gather(ReturnExceptions, Range&& range) {
  return detail::gather_range<true>(std::forward<Range>(range));
}

}  // namespace aio
