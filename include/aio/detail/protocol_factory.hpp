// aio/detail/protocol_factory.hpp — what lets the loop's connection factories give back the
// protocol as its factory made it, as asyncio's create_connection returns the very object its
// factory returned: a factory's protocol type, and the loop's type-erased connection retyped
// to it (the object itself is kept, never cast). Only the loop's templates use this.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"

namespace aio::detail {

/// The protocol type a factory makes: P for a callable returning std::shared_ptr<P>.
template <class F>
using Made = typename std::invoke_result_t<F&>::element_type;

/// A callable that makes a std::shared_ptr to a protocol derived from `Base`: a lambda, a
/// function, a ProtocolFactory.
template <class F, class Base>
concept FactoryOf = std::invocable<F&> && requires {
  typename Made<F>;
} && std::convertible_to<std::invoke_result_t<F&>, std::shared_ptr<Base>>;

/// (transport, protocol) with the protocol typed as `F` makes it.
template <class T, class F>
using FactoryPair = std::pair<std::shared_ptr<T>, std::shared_ptr<Made<F>>>;

template <class P, class T, class Base>
Coro<std::pair<std::shared_ptr<T>, std::shared_ptr<P>>> retyped(
    Coro<std::pair<std::shared_ptr<T>, std::shared_ptr<Base>>> connecting,
    std::shared_ptr<std::shared_ptr<P>> made) {
  std::pair<std::shared_ptr<T>, std::shared_ptr<Base>> pair = co_await std::move(connecting);
  co_return std::pair<std::shared_ptr<T>, std::shared_ptr<P>>(std::move(pair.first),
                                                              std::move(*made));
}

/// `open(erased)` with `factory` made a std::function returning std::shared_ptr<Base>, its
/// pair given back with the protocol typed as `factory` makes it. A factory that makes `Base`
/// itself goes straight through.
template <class Base, class F, class Open>
auto with_made_protocol(F factory, Open&& open) {
  using P = Made<F>;
  using Erased = std::function<std::shared_ptr<Base>()>;
  if constexpr (std::is_same_v<P, Base>) {
    return open(Erased(std::move(factory)));
  } else {
    auto made = std::make_shared<std::shared_ptr<P>>();
    Erased erased = [factory = std::move(factory), made]() mutable -> std::shared_ptr<Base> {
      *made = factory();
      return *made;
    };
    return retyped<P>(open(std::move(erased)), std::move(made));
  }
}

}  // namespace aio::detail
