// Port of seed 004 ("Async programming in python"), "async for and asynchronous comprehensions":
// the mygen async generator, consumed by an async comprehension and an async for.
#include <aio/aio.hpp>
#include <cstdio>
#include <vector>

long long power(long long b, int i) {
  long long r = 1;
  while (i-- > 0) r *= b;
  return r;
}

// async generators
aio::AsyncGenerator<long long> mygen(long long b, int n) {
  int i = 0;
  while (i < n) {
    std::puts("Yielding a value");
    co_yield power(b, i);
    i += 1;
    // Here the task will give the control to event loop
    co_await aio::sleep(1);
    std::puts("Back after sleeping");
  }
}

aio::Coro<std::vector<long long>> async_driver() {
  // async comprehensions: [i async for i in mygen(2, 10)]
  std::vector<long long> g = co_await aio::collect(mygen(2, 10));

  // async for
  auto gen = mygen(3, 5);
  while (auto j = co_await gen.next()) std::printf("%lld\n", *j);
  co_return g;
}

int main() {
  aio::run(async_driver());
}
