// aio/gather.hpp — asyncio.gather(): run awaitables concurrently, collect their results.
//
// gather() returns a Future at once; the children start then (Coros become tasks, in argument
// order). The future completes with the results in argument order: a tuple for the variadic
// form (a void child gives std::monostate), a vector for a range. Without return_exceptions
// the first child to fail fails the gather at once (a cancelled child counts as failing with
// CancelledError) while the others keep running; with `aio::return_exceptions` every slot is
// an Outcome<T>. Cancelling the gather's future cancels its children — asyncio's rules exactly.
#pragma once

#include <cstddef>
#include <memory>
#include <ranges>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "aio/detail/awaitable.hpp"
#include "aio/future.hpp"
#include "aio/loop.hpp"
#include "aio/outcome.hpp"
#include "aio/task.hpp"

namespace aio {

/// The tag for asyncio's gather(..., return_exceptions=True).
struct ReturnExceptions {
  explicit ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

namespace detail {

/// The non-template half of a gather: counts children and applies asyncio's rules.
class GatherCore {
 public:
  GatherCore(const GatherCore&) = delete;
  GatherCore& operator=(const GatherCore&) = delete;

 protected:
  GatherCore(FutureBase& outer, bool return_exceptions) noexcept
      : outer_(&outer), return_exceptions_(return_exceptions) {}
  virtual ~GatherCore();

  /// Starts watching the children (the core keeps a reference on each).
  void watch(std::vector<FutureBase*> children);
  /// _GatheringFuture.cancel(): cancels the children; true if any of them was.
  bool cancel_children(std::string_view msg);
  /// Every child finished and no cancellation was requested: store the results.
  virtual void set_results() = 0;

 private:
  // Registered on a child; holds a reference on the gather only while queued to run (a
  // gather nobody holds any more unlinks itself from its children instead).
  struct ChildDone final : Runnable {
    ChildDone() noexcept { notify_when_scheduled = true; }
    GatherCore* gather = nullptr;
    std::size_t index = 0;
    bool queued = false;
    void on_scheduled(FutureBase&) noexcept override;
    void run() override;
    void discard() noexcept override;
  };
  void child_done(std::size_t index);

  FutureBase* outer_;
  std::vector<FutureBase*> children_;
  std::unique_ptr<ChildDone[]> nodes_;
  std::size_t finished_ = 0;
  bool return_exceptions_;
  bool cancel_requested_ = false;
};

/// A child's value as gather reports it: moved out when the gather is its only owner.
template <class T>
auto gather_value(const Future<T>& f) {
  if constexpr (std::is_void_v<T>) {
    f.core()->get();
    return std::monostate{};
  } else if constexpr (std::is_copy_constructible_v<T>) {
    return f.core()->use_count() == 1 ? f.core()->take() : T(f.core()->get());
  } else {
    return f.core()->take();
  }
}

template <class T>
Outcome<T> gather_outcome(const Future<T>& f) {
  FutureBase& c = *f.core();
  if (c.cancelled()) return Outcome<T>(c.cancelled_error());
  if (auto e = c.exception()) return Outcome<T>(e);
  if constexpr (std::is_void_v<T>) {
    return Outcome<void>();
  } else {
    return Outcome<T>(gather_value(f));
  }
}

template <class R, class Children, bool ReturnExc>
class GatherState final : public FutureCore<R>, public GatherCore {
 public:
  GatherState(EventLoop& loop, Children children)
      : FutureCore<R>(loop, false), GatherCore(*this, ReturnExc), children_(std::move(children)) {
    std::vector<FutureBase*> bases;
    for_each_child([&](auto& f) { bases.push_back(f.core()); });
    watch(std::move(bases));
  }

  bool cancel(std::string_view msg) override {
    if (this->done()) return false;
    return cancel_children(msg);
  }

 private:
  template <class F>
  void for_each_child(F&& f) {
    if constexpr (requires { children_.size(); }) {
      for (auto& c : children_) f(c);
    } else {
      std::apply([&](auto&... c) { (f(c), ...); }, children_);
    }
  }
  static auto slot(const auto& f) {
    if constexpr (ReturnExc) {
      return gather_outcome(f);
    } else {
      return gather_value(f);
    }
  }
  void set_results() override {
    if constexpr (requires { children_.size(); }) {
      R results;
      results.reserve(children_.size());
      for (auto& c : children_) results.push_back(slot(c));
      this->store_value(std::move(results));
    } else {
      this->store_value(std::apply([](auto&... c) { return R{slot(c)...}; }, children_));
    }
    this->mark_finished();
  }
  void destroy() noexcept override { delete this; }

  Children children_;
};

/// The loop a gather runs on: that of its Future arguments (which must agree), else the
/// running loop, else get_event_loop().
EventLoop& gather_loop(const std::vector<const FutureBase*>& futures);

template <class A>
void collect_future(std::vector<const FutureBase*>& out, const A& a) {
  if constexpr (IsFuture<std::remove_cvref_t<A>>::value) out.push_back(a.base());
}

template <class A>
using gathered_t =
    typename decltype(ensure_future_on(std::declval<EventLoop&>(), std::declval<A>()))::value_type;

template <class T>
using slot_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <bool ReturnExc, class... A>
auto gather_variadic(A&&... aws) {
  using Children = std::tuple<Future<gathered_t<A>>...>;
  using R = std::conditional_t<ReturnExc, std::tuple<Outcome<gathered_t<A>>...>,
                               std::tuple<slot_t<gathered_t<A>>...>>;
  std::vector<const FutureBase*> futures;
  (collect_future(futures, aws), ...);
  EventLoop& loop = gather_loop(futures);
  // Braces: the children start in argument order.
  Children children{Future<gathered_t<A>>(ensure_future_on(loop, std::forward<A>(aws)))...};
  auto* state = new GatherState<R, Children, ReturnExc>(loop, std::move(children));
  return Future<R>(Future<R>::adopt, state);
}

template <class E>
concept GatherElement =
    IsCoro<std::remove_cvref_t<E>>::value || IsFuture<std::remove_cvref_t<E>>::value;

template <bool ReturnExc, class Range>
auto gather_range(Range&& range) {
  using E = std::ranges::range_value_t<Range>;
  using T = gathered_t<E>;
  using Children = std::vector<Future<T>>;
  using R = std::conditional_t<ReturnExc, std::vector<Outcome<T>>, std::vector<slot_t<T>>>;
  std::vector<const FutureBase*> futures;
  for (auto& e : range) collect_future(futures, e);
  EventLoop& loop = gather_loop(futures);
  Children children;
  for (auto& e : range) {
    if constexpr (IsCoro<E>::value) {
      children.emplace_back(ensure_future_on(loop, std::move(e)));  // a Coro is consumed
    } else {
      children.emplace_back(e);
    }
  }
  auto* state = new GatherState<R, Children, ReturnExc>(loop, std::move(children));
  return Future<R>(Future<R>::adopt, state);
}

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
