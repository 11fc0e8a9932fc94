// aio/as_completed.hpp — asyncio.as_completed(): results in the order they complete.
//
// The inputs start when as_completed() is called (Coros become tasks, in order). Two forms, as
// in 3.13: iterate it — each element is a Coro<T> that, awaited, yields the next result to
// complete (whichever element is awaited first) or rethrows its exception — or call
// `co_await ac.next()` for the next completed Task/Future itself (nullopt after the last).
// With a timeout, once it expires every element still to come throws TimeoutError; the inputs
// are not cancelled. Single pass: there are exactly as many elements as distinct inputs.
#pragma once

#include <cstddef>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/thread_state.hpp"
#include "aio/duration.hpp"
#include "aio/future.hpp"
#include "aio/gather.hpp"
#include "aio/loop.hpp"
#include "aio/task.hpp"

namespace aio {

template <class T>
class AsCompleted {
  struct State;

 public:
  using value_type = Coro<T>;

  template <std::ranges::range Range>
  AsCompleted(Range&& inputs, std::optional<Duration> timeout) : state_(std::make_shared<State>()) {
    std::unordered_set<const detail::FutureBase*> seen;  // duplicates count once
    EventLoop& loop = detail::futures_of_range<T>(inputs, [&](Future<T> f) {
      if (seen.insert(f.base()).second) state_->todo.push_back(std::move(f));
    });
    state_->loop = &loop;
    state_->remaining = state_->todo.size();
    std::weak_ptr<State> weak = state_;
    // The inputs are awaited by the task iterating (asyncio 3.14's call graphs), until done.
    detail::FutureBase* caller = detail::this_thread.current_task;
    for (auto& f : state_->todo) {
      if (caller) f.core()->add_awaited_by(*caller);
      f.add_done_callback([weak, caller](Future<T>& done) {
        if (caller) done.core()->discard_awaited_by(*caller);
        if (auto s = weak.lock()) s->completed(done);
      });
    }
    if (timeout) {
      state_->timer = loop.call_later(*timeout, [weak] {
        if (auto s = weak.lock()) s->expire();
      });
    }
  }
  AsCompleted(AsCompleted&&) noexcept = default;
  AsCompleted& operator=(AsCompleted&&) noexcept = default;

  /// The next input to complete, as the original Task/Future; nullopt when all were given out.
  Coro<std::optional<Future<T>>> next() { return next_future(state_); }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Coro<T>;
    using difference_type = std::ptrdiff_t;
    using reference = Coro<T>;
    using pointer = void;
    iterator() = default;
    explicit iterator(State* s) : state_(s) {}
    /// Hands out the next element; call once per position (single pass).
    Coro<T> operator*() const {
      ++state_->handed_out;
      return next_result(state_->shared_from_this());
    }
    iterator& operator++() { return *this; }
    void operator++(int) {}
    /// Iterators compare equal when both are at the end (everything was handed out).
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.at_end() == b.at_end();
    }

   private:
    bool at_end() const { return !state_ || state_->handed_out >= state_->remaining; }
    State* state_ = nullptr;
  };
  iterator begin() { return iterator(state_.get()); }
  iterator end() { return iterator(); }

 private:
  struct State : std::enable_shared_from_this<State> {
    EventLoop* loop = nullptr;
    std::vector<Future<T>> todo;
    std::deque<Future<T>> done;
    std::vector<Future<void>> waiters;
    TimerHandle timer;
    std::size_t remaining = 0;   // distinct inputs
    std::size_t handed_out = 0;  // elements given out by the iterator or next()
    bool timed_out = false;

    ~State() { timer.cancel(); }
    void completed(Future<T>& f) {
      if (timed_out) return;
      done.push_back(f);
      wake();
    }
    void expire() {
      timed_out = true;
      wake();
    }
    void wake() {
      for (auto& w : waiters) {
        if (!w.done()) w.set_result();
      }
      waiters.clear();
    }
    /// Waits until a completion (or the timeout) is there; TimeoutError after the timeout.
    Coro<Future<T>> take() {
      while (done.empty()) {
        if (timed_out) throw TimeoutError("as_completed(): timed out");
        Future<void> w = loop->template create_future<void>();
        waiters.push_back(w);
        co_await w;
      }
      Future<T> f = std::move(done.front());
      done.pop_front();
      co_return f;
    }
  };

  static Coro<T> next_result(std::shared_ptr<State> s) {
    Future<T> f = co_await s->take();
    co_return co_await f;
  }
  static Coro<std::optional<Future<T>>> next_future(std::shared_ptr<State> s) {
    if (s->handed_out >= s->remaining) co_return std::nullopt;
    ++s->handed_out;
    co_return co_await s->take();
  }

  std::shared_ptr<State> state_;
};

/// as_completed(range of Coro<T> | Task<T> | Future<T>, timeout = nullopt).
template <std::ranges::range Range>
requires detail::GatherElement<std::ranges::range_value_t<Range>>
auto as_completed(Range&& inputs, std::optional<Duration> timeout = std::nullopt) {
  using T = detail::gathered_t<std::ranges::range_value_t<Range>>;
  return AsCompleted<T>(std::forward<Range>(inputs), timeout);
}

}  // namespace aio
