// aio/wait.hpp — asyncio.wait(futures, return_when, timeout): waits for some of them and
// returns {done, pending}, cancelling nothing.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/duration.hpp"
#include "aio/future.hpp"
#include "aio/handle.hpp"
#include "aio/loop.hpp"
#include "aio/task.hpp"

namespace aio {

enum class ReturnWhen { first_completed, first_exception, all_completed };

template <class F>
struct WaitResult {
  std::vector<F> done;
  std::vector<F> pending;
};

namespace detail {

/// asyncio.tasks._wait: wakes when `return_when` is met or the timeout passes.
template <class F>
Coro<WaitResult<F>> wait_for_some(std::vector<F> fs, ReturnWhen when,
                                  std::optional<Duration> timeout) {
  struct Shared {
    std::size_t counter;
    ReturnWhen when;
    Future<void> waiter;
  };
  EventLoop& loop = get_running_loop();
  auto shared = std::make_shared<Shared>(Shared{fs.size(), when, loop.create_future<void>()});
  TimerHandle timer;
  if (timeout) {
    timer = loop.call_later(*timeout, [shared] {
      if (!shared->waiter.done()) shared->waiter.set_result();
    });
  }
  std::vector<CallbackId> ids;
  ids.reserve(fs.size());
  for (auto& f : fs) {
    f.core()->add_awaited_by(*shared->waiter.core());  // the call graphs: f → waiter → task
    ids.push_back(f.add_done_callback([shared](auto& done) {
      const bool failed = !done.cancelled() && done.exception();
      if (--shared->counter == 0 || shared->when == ReturnWhen::first_completed ||
          (shared->when == ReturnWhen::first_exception && failed)) {
        if (!shared->waiter.done()) shared->waiter.set_result();
      }
    }));
  }
  std::exception_ptr error;
  try {
    co_await shared->waiter;
  } catch (...) {
    error = std::current_exception();  // the waiting task was cancelled: the futures are not
  }
  timer.cancel();
  for (std::size_t i = 0; i < fs.size(); ++i) {
    if (!fs[i].done()) fs[i].remove_done_callback(ids[i]);
    fs[i].core()->discard_awaited_by(*shared->waiter.core());
  }
  if (error) std::rethrow_exception(error);
  WaitResult<F> result;
  for (auto& f : fs) (f.done() ? result.done : result.pending).push_back(std::move(f));
  co_return result;
}

}  // namespace detail

/// asyncio.wait(): F is Task<T> or Future<T> (a Coro does not compile: asyncio 3.11+ refuses
/// coroutines too); duplicates count once; an empty range is std::invalid_argument. A timeout
/// returns what is done by then and cancels nothing.
template <std::ranges::range Range>
requires detail::IsFuture<std::ranges::range_value_t<Range>>::value
    Coro<WaitResult<std::ranges::range_value_t<Range>>>
    wait(const Range& futures, ReturnWhen return_when = ReturnWhen::all_completed,
         std::optional<Duration> timeout = std::nullopt) {
  using F = std::ranges::range_value_t<Range>;
  std::vector<F> fs;
  std::unordered_set<const detail::FutureBase*> seen;
  for (const auto& f : futures) {
    if (seen.insert(f.base()).second) fs.push_back(f);
  }
  if (fs.empty()) throw std::invalid_argument("Set of Tasks/Futures is empty.");
  return detail::wait_for_some(std::move(fs), return_when, timeout);
}

}  // namespace aio
