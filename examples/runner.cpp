// Port of seed 003 ("ASYNCIO"), "asyncio.Runner()": hello after a second, on a Runner's loop.
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<void> main_() {
  co_await aio::sleep(1);
  std::puts("hello");
}

int main() {
  {  // Python's `with` block: the Runner closes when it goes out of scope
    aio::Runner runner;
    runner.run(main_());
  }
}
