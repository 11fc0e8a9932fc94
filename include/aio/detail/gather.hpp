// aio/detail/gather.hpp — how gather() works (aio/gather.hpp is the API): the Future a gather
// returns is itself the watcher of its children (GatherTuple for gather(aws...), GatherRange
// for a range), GatherCore counts them and applies asyncio's rules, and LoopOfFutures finds the
// loop the gather runs on.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
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

namespace aio::detail {

/// The non-template half of a gather: counts children and applies asyncio's rules.
class GatherCore : private Watcher {
 public:
  GatherCore(const GatherCore&) = delete;
  GatherCore& operator=(const GatherCore&) = delete;

 protected:
  /// Takes over one reference on each child (and the vector itself: no copy).
  GatherCore(FutureBase& outer, bool return_exceptions, std::vector<FutureBase*> children);
  virtual ~GatherCore();

  /// Starts watching the children (call once a Future holds the gather: when every child is
  /// done already, the gather completes here).
  void watch();
  /// The other way to build a gather, in one pass over its children: adopt() each (it takes
  /// over one reference and watches the child at once), then watch_done().
  void adopt(FutureBase* child) {
    if (children_.size() == children_.capacity()) [[unlikely]]
      make_room(child);
    children_.push_back(child);  // cannot throw now
    if (!child->try_watch(*this)) [[unlikely]]
      watch_or_defer(*child);
  }
  /// After the last adopt(): counts the children that were done already, in order (only now,
  /// so that a gather() that fails while collecting has done nothing).
  void watch_done();
  void reserve(std::size_t children) { children_.reserve(children); }
  /// Whether set_results() may let go of each child as it goes (no node points at one).
  bool may_drop_children() const noexcept { return nodes_ == nullptr; }
  /// set_results() let go of every child.
  void children_dropped() noexcept { children_.clear(); }
  /// _GatheringFuture.cancel(): cancels the children; true if any of them was.
  bool cancel_children(std::string_view msg);
  /// Every child finished and no cancellation was requested: store the results.
  virtual void set_results() = 0;
  /// Child number `index` completed with a value, in argument order so far: the gather may
  /// take its result now, while its frame is at hand (true), instead of in set_results(). The
  /// gather then lets go of the child at once.
  virtual bool take_early(std::size_t index, FutureBase& child) noexcept {
    (void)index;
    (void)child;
    return false;
  }
  /// The children whose results take_early() took: the first `taken()`.
  std::size_t taken() const noexcept { return taken_; }

  std::size_t size() const noexcept { return children_.size(); }
  template <class T>
  FutureCore<T>& child(std::size_t i) const noexcept {
    return *static_cast<FutureCore<T>*>(children_[i]);
  }
  std::span<FutureBase*> children() noexcept { return children_; }

 private:
  // A child is counted the moment it completes; only one whose outcome can decide the gather
  // (it failed, or it is the last) is queued to run asyncio's _done_callback, as the one step
  // asyncio takes after it. A queued decision holds a reference on the gather (a gather nobody
  // holds any more unlinks itself from its children instead).
  //
  // The gather watches each child with no node of its own (FutureBase::try_watch): a deciding
  // child joins the gather's FIFO of decisions (linked through its CallbackNode, which a done child
  // no longer uses) and the gather's one Decider is queued once per decision. A child with
  // other callbacks gets a Node, which is queued itself.
  void completed(FutureBase& child) noexcept override;
  FutureBase* waiter() const noexcept override { return outer_; }
  CallbackNode* as_callback(FutureBase& child) override;
  /// Watches `child` (a callback node if it has other callbacks); false if it is done already.
  bool watch_pending(FutureBase& child);
  /// adopt()'s slow path: the vector grows (on failure the child's reference is let go of).
  void make_room(FutureBase* child);
  /// Watches a pending child; one that is done already waits for watch_done().
  void watch_or_defer(FutureBase& child);
  /// Counts a completion; true (with a reference on the gather taken) if it must be run.
  bool decides(FutureBase& child) noexcept;
  void decide(FutureBase& child);

  struct Decider final : Runnable {
    GatherCore* gather;
    void run() override;
    void discard() noexcept override;
  };
  struct Node final : CallbackNode {
    Node(GatherCore& g, FutureBase& c, Node* next) noexcept
        : gather(&g), child(&c), next_node(next) {
      notify_when_scheduled = true;
    }
    bool queued = false;  // in the CallbackNode's padding
    GatherCore* gather;
    FutureBase* child;
    Node* next_node;  // the gather's nodes, freed with it
    bool on_scheduled(FutureBase& from) noexcept override;
    void run() override;
    FutureBase* waiter() const noexcept override;
    void discard() noexcept override;
  };
  Node* add_node(FutureBase& child);
  FutureBase* pop_decision() noexcept;

  friend struct DebugTableAccess;  // src/debug/debug_table.cpp
  FutureBase* outer_;
  std::vector<FutureBase*> children_;
  Node* nodes_ = nullptr;
  Decider decider_;
  FutureBase* decisions_ = nullptr;  // the FIFO of watched children to decide on
  FutureBase* last_decision_ = nullptr;
  std::size_t completed_ = 0;  // children that completed (counted as they do)
  std::size_t taken_ = 0;      // children_[0, taken_): results taken early, let go of (null)
  bool return_exceptions_;
  bool cancel_requested_ = false;
  bool adopted_done_ = false;  // adopt() met a child that was done already
};

/// A child's value as gather reports it: moved out when the gather is its only owner.
template <class T>
auto gather_value(FutureCore<T>& f) {
  if constexpr (std::is_void_v<T>) {
    f.get();
    return std::monostate{};
  } else if constexpr (std::is_copy_constructible_v<T>) {
    return f.use_count() == 1 ? f.take() : T(f.get());
  } else {
    return f.take();
  }
}

template <class T>
Outcome<T> gather_outcome(FutureCore<T>& c) {
  if (c.cancelled()) return Outcome<T>(c.cancelled_error());
  if (auto e = c.exception()) return Outcome<T>(e);
  if constexpr (std::is_void_v<T>) {
    return Outcome<void>();
  } else {
    return Outcome<T>(gather_value(c));
  }
}

template <bool ReturnExc, class T>
auto gather_slot(FutureCore<T>& f) {
  if constexpr (ReturnExc) {
    return gather_outcome(f);
  } else {
    return gather_value(f);
  }
}

/// gather(aws...): one child per argument, of types T...
template <class R, bool ReturnExc, class... T>
class GatherTuple final : public FutureCore<R>, public GatherCore {
 public:
  GatherTuple(EventLoop& loop, std::vector<FutureBase*> children)
      : FutureCore<R>(loop), GatherCore(*this, ReturnExc, std::move(children)) {}
  bool cancel(std::string_view msg) override { return !this->done() && cancel_children(msg); }
  using GatherCore::watch;

 private:
  void set_results() override {
    this->store_value(build(std::index_sequence_for<T...>{}));
    this->mark_finished();
  }
  template <std::size_t... I>
  R build(std::index_sequence<I...>) {
    return R{gather_slot<ReturnExc>(this->template child<T>(I))...};
  }
  void destroy() noexcept override { delete this; }
};

/// gather(range): children of one type T.
template <class R, bool ReturnExc, class T>
class GatherRange final : public FutureCore<R>, public GatherCore {
 public:
  /// Built empty: gather_range() adopts the children one by one.
  explicit GatherRange(EventLoop& loop) : FutureCore<R>(loop), GatherCore(*this, ReturnExc, {}) {}
  bool cancel(std::string_view msg) override { return !this->done() && cancel_children(msg); }
  using GatherCore::adopt;
  using GatherCore::watch_done;
  void reserve(std::size_t children) {
    GatherCore::reserve(children);
    if constexpr (early) results_.resize(children);
  }

 private:
  // A value that costs no more to copy than to move is taken as its child completes, while
  // the child's memory is at hand: a million children are a million frames, and the gather
  // then makes no pass of its own over them. The results are sized up front (for a range
  // whose size is known), so that taking one is a store. Other values wait for
  // set_results(), which moves them out of the children nobody else holds.
  static constexpr bool early =
      !ReturnExc && (std::is_void_v<T> ||
                     (std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>));
  bool take_early(std::size_t index, FutureBase& child) noexcept override {
    if constexpr (early) {
      if (index >= results_.size()) return false;  // not sized up front
      if constexpr (!std::is_void_v<T>)
        results_[index] = static_cast<FutureCore<T>&>(child).value();
      return true;
    }
    return false;
  }
  void set_results() override {
    R results = std::move(results_);
    // Each child is let go as soon as its value is out (one pass over them, not two).
    const bool drop = may_drop_children();
    const auto slot_of = [drop](FutureBase*& c) {
      auto slot = gather_slot<ReturnExc>(*static_cast<FutureCore<T>*>(c));
      if (drop) std::exchange(c, nullptr)->release();
      return slot;
    };
    const std::span<FutureBase*> rest = children().subspan(taken());
    if (results.size() == size()) {  // sized up front: the first taken() are in already
      std::size_t i = taken();
      for (FutureBase*& c : rest) results[i++] = slot_of(c);
    } else {  // not sized up front (or the range's size was wrong): keep what was taken
      if constexpr (early) {
        results.resize(taken());
      } else {
        results.clear();
      }
      results.reserve(size());
      for (FutureBase*& c : rest) results.push_back(slot_of(c));
    }
    if (drop) children_dropped();
    this->store_value(std::move(results));
    this->mark_finished();
  }
  R results_;  // what take_early() took
  void destroy() noexcept override { delete this; }
};

/// Finds the loop a gather (or as_completed) runs on: that of its Future arguments, which must
/// agree (std::invalid_argument otherwise), else the running loop, else get_event_loop().
class LoopOfFutures {
 public:
  template <class A>
  void add(const A& a) {
    if constexpr (IsFuture<std::remove_cvref_t<A>>::value) {
      if (&a.base()->loop() != loop_) add_future(*a.base());  // the first, or a stranger
    }
  }
  EventLoop& loop() const;

 private:
  void add_future(const FutureBase& f);
  EventLoop* loop_ = nullptr;
};

template <class A>
using gathered_t =
    typename decltype(ensure_future_on(std::declval<EventLoop&>(), std::declval<A>()))::value_type;

template <class T>
using slot_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// A reference on `f`'s state, handed over to the gather.
template <class F>
FutureBase* take_ref(F&& f) {
  return std::forward<F>(f).release_core();
}

template <bool ReturnExc, class... A>
auto gather_variadic(A&&... aws) {
  using R = std::conditional_t<ReturnExc, std::tuple<Outcome<gathered_t<A>>...>,
                               std::tuple<slot_t<gathered_t<A>>...>>;
  LoopOfFutures where;
  (where.add(aws), ...);
  EventLoop& loop = where.loop();
  // Braces: the children start in argument order.
  std::vector<FutureBase*> children{
      take_ref(Future<gathered_t<A>>(ensure_future_on(loop, std::forward<A>(aws))))...};
  auto* state = new GatherTuple<R, ReturnExc, gathered_t<A>...>(loop, std::move(children));
  Future<R> gather(Future<R>::adopt, state);
  state->watch();
  return gather;
}

template <class E>
concept GatherElement =
    IsCoro<std::remove_cvref_t<E>>::value || IsFuture<std::remove_cvref_t<E>>::value;

/// Passes each element of a range to `sink` as a Future<T>, in one pass (lazy views work):
/// Coros become tasks on the running (or current) loop; Futures must share one loop.
/// Returns the loop.
template <class T, class Range, class Sink>
EventLoop& futures_of_range(Range&& range, Sink&& sink) {
  using E = std::ranges::range_value_t<Range>;
  if constexpr (IsCoro<E>::value) {
    EventLoop& loop = running_or_current_loop();
    for (auto&& e : range) sink(Future<T>(ensure_future_on(loop, std::move(e))));  // consumed
    return loop;
  } else {
    LoopOfFutures where;
    for (auto&& e : range) {
      where.add(e);
      sink(Future<T>(e));
    }
    return where.loop();
  }
}

template <bool ReturnExc, class Range>
auto gather_range(Range&& range) {
  using T = gathered_t<std::ranges::range_value_t<Range>>;
  using R = std::conditional_t<ReturnExc, std::vector<Outcome<T>>, std::vector<slot_t<T>>>;
  using State = GatherRange<R, ReturnExc, T>;
  // The gather is made at the first child (it runs on that child's loop) and adopts each child
  // as it comes, in the one pass that checks its loop. If collecting fails, dropping `gather`
  // lets go of the children taken so far; nothing has been queued yet.
  std::size_t expected = 0;
  if constexpr (std::ranges::sized_range<Range>) expected = std::ranges::size(range);
  std::optional<Future<R>> gather;
  State* state = nullptr;
  EventLoop& loop = futures_of_range<T>(range, [&](Future<T> f) {
    if (!state) {
      state = new State(f.get_loop());
      gather.emplace(Future<R>::adopt, state);
      state->reserve(expected);
    }
    state->adopt(std::move(f).release_core());
  });
  if (!state) {
    state = new State(loop);  // no children: done at once
    gather.emplace(Future<R>::adopt, state);
  }
  state->watch_done();
  return std::move(*gather);
}

}  // namespace aio::detail
