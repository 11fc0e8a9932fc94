// Micro-benchmarks of aio's hot paths (Google Benchmark). Each runs inside one task on a loop,
// so what is measured is the operation itself, not loop start-up.
//
//   build/release/bench/aio-micro [--benchmark_filter=Queue]
//
// The figures are nanoseconds per operation on this machine; they move with the machine, so
// compare them only within one run (or count instructions with callgrind).
#include <benchmark/benchmark.h>

#include <aio/aio.hpp>
#include <string>

namespace {

// Runs `body(state)` as the main task of a fresh loop.
template <class Body>
void in_loop(benchmark::State& state, Body body) {
  aio::run(body(state));
}

aio::Coro<int> identity(int x) {
  co_return x;
}

// Awaiting a Coro: a symmetric transfer into a new frame and back.
void AwaitCoro(benchmark::State& state) {
  in_loop(state, [](benchmark::State& st) -> aio::Coro<void> {
    int sum = 0;
    for (auto _ : st) sum += co_await identity(1);
    benchmark::DoNotOptimize(sum);
  });
}
BENCHMARK(AwaitCoro);

// sleep(0): one trip through the ready queue.
void Sleep0(benchmark::State& state) {
  in_loop(state, [](benchmark::State& st) -> aio::Coro<void> {
    for (auto _ : st) co_await aio::sleep(0);
  });
}
BENCHMARK(Sleep0);

// call_soon of a small callback, run by the loop (batches of 1,000 per loop turn).
void CallSoon(benchmark::State& state) {
  in_loop(state, [](benchmark::State& st) -> aio::Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    std::int64_t ran = 0;
    for (auto _ : st) {
      for (int i = 0; i < 1000; ++i) loop.call_soon([&ran] { ++ran; });
      co_await aio::sleep(0);
    }
    st.SetItemsProcessed(ran);
  });
}
BENCHMARK(CallSoon);

// A timer inserted into the heap and cancelled.
void TimerInsertCancel(benchmark::State& state) {
  in_loop(state, [](benchmark::State& st) -> aio::Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    for (auto _ : st) {
      aio::TimerHandle h = loop.call_later(10.0, [] {});
      h.cancel();
    }
    co_return;
  });
}
BENCHMARK(TimerInsertCancel);

// A Future made, given a result, and awaited (done already: no suspension).
void FutureSetAwait(benchmark::State& state) {
  in_loop(state, [](benchmark::State& st) -> aio::Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    int sum = 0;
    for (auto _ : st) {
      aio::Future<int> f = loop.create_future<int>();
      f.set_result(1);
      sum += co_await f;
    }
    benchmark::DoNotOptimize(sum);
  });
}
BENCHMARK(FutureSetAwait);

// Queue.put_nowait + get on a non-empty queue (no suspension).
void QueuePutGet(benchmark::State& state) {
  in_loop(state, [](benchmark::State& st) -> aio::Coro<void> {
    aio::Queue<int> q;
    int sum = 0;
    for (auto _ : st) {
      q.put_nowait(1);
      sum += co_await q.get();
    }
    benchmark::DoNotOptimize(sum);
  });
}
BENCHMARK(QueuePutGet);

// StreamReader.readline on buffered data (64-byte lines).
void StreamReaderReadline(benchmark::State& state) {
  in_loop(state, [](benchmark::State& st) -> aio::Coro<void> {
    aio::StreamReader reader;
    const std::string line = std::string(63, 'x') + "\n";
    std::size_t bytes = 0;
    for (auto _ : st) {
      reader.feed_data(line);
      bytes += (co_await reader.readline()).size();
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  });
}
BENCHMARK(StreamReaderReadline);

}  // namespace

BENCHMARK_MAIN();
