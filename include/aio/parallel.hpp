// aio/parallel.hpp — run_parallel(): one coroutine on each of N loops, N threads.
//
// asyncio's answer to "use every core" is several processes; aio's is several loops in one
// process, each asyncio's model inside (one thread, no locks in user code), that call each
// other with run_on() and pass values through Channels:
//
//   std::vector<int> counts = aio::run_parallel(4, [](int shard) -> aio::Coro<int> {
//     co_return co_await count_primes(shard);
//   });
//
// run_parallel(n, fn) starts a LoopGroup of n loops (n = 0: one per usable CPU), runs fn(shard)
// as the main task of loop `shard` (fn may also take the LoopGroup& as a second argument, to
// reach the other loops), and returns every result in shard order (nothing for Coro<void>).
// It is run() of a main task on the calling thread that awaits the shards as a TaskGroup does:
// the first failure cancels the other shards and run_parallel throws an ExceptionGroup of the
// failures. Ctrl+C cancels every shard's task and ends in one KeyboardInterrupt, as run()
// does. The loops are then shut down (leftover tasks cancelled and awaited) and joined.
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/loop_thread.hpp"
#include "aio/run_on.hpp"
#include "aio/runners.hpp"
#include "aio/task_group.hpp"

namespace aio {

struct ParallelOptions {
  RunOptions run{};       // every loop's options (the calling thread's loop's too)
  bool pin_cpus = false;  // loop i on the i-th usable CPU
  Duration spin = 50e-6;  // LoopGroupOptions::spin: the shards' polling before they sleep
};

namespace detail {

template <class F>
decltype(auto) call_shard(F& fn, int shard, LoopGroup& group) {
  if constexpr (std::is_invocable_v<F&, int, LoopGroup&>) {
    return fn(shard, group);
  } else {
    return fn(shard);
  }
}

template <class F>
using ShardCoro =
    std::remove_cvref_t<decltype(call_shard(std::declval<F&>(), 0, std::declval<LoopGroup&>()))>;

// The shard's main coroutine, made on its own loop (fn runs there, not on the caller's).
template <class T, class F>
Coro<T> shard_main(F& fn, int shard, LoopGroup& group) {
  co_return co_await call_shard(fn, shard, group);
}

template <class T, class F>
Coro<void> run_shard(F& fn, int shard, LoopGroup& group, std::optional<T>& slot) {
  slot.emplace(
      co_await run_on(group[static_cast<std::size_t>(shard)], shard_main<T>(fn, shard, group)));
}
template <class F>
Coro<void> run_shard_void(F& fn, int shard, LoopGroup& group) {
  co_await run_on(group[static_cast<std::size_t>(shard)], shard_main<void>(fn, shard, group));
}

template <class T, class F>
Coro<std::vector<T>> run_shards(F& fn, LoopGroup& group) {
  std::vector<std::optional<T>> slots(group.size());
  auto body = [&](TaskGroup& tg) -> Coro<void> {
    for (std::size_t i = 0; i < group.size(); ++i) {
      tg.create_task(run_shard<T>(fn, static_cast<int>(i), group, slots[i]));
    }
    co_return;
  };
  co_await task_group(body);
  std::vector<T> results;
  results.reserve(slots.size());
  for (auto& s : slots) results.push_back(std::move(*s));
  co_return results;
}
template <class F>
Coro<void> run_shards_void(F& fn, LoopGroup& group) {
  auto body = [&](TaskGroup& tg) -> Coro<void> {
    for (std::size_t i = 0; i < group.size(); ++i) {
      tg.create_task(run_shard_void(fn, static_cast<int>(i), group));
    }
    co_return;
  };
  co_await task_group(body);
}

}  // namespace detail

/// fn(shard) (or fn(shard, group)) -> Coro<T> on each of n loops; every result, in order.
template <class F>
auto run_parallel(int n, F fn, ParallelOptions options = {}) {
  using T = typename detail::ShardCoro<F>::value_type;
  if (detail::this_thread.running_loop) {
    throw RuntimeError("aio::run_parallel() cannot be called from a running event loop");
  }
  LoopGroup group(n, {.run = options.run, .pin_cpus = options.pin_cpus, .spin = options.spin});
  if constexpr (std::is_void_v<T>) {
    run(detail::run_shards_void(fn, group), options.run);
  } else {
    return run(detail::run_shards<T>(fn, group), options.run);
  }
}

}  // namespace aio
