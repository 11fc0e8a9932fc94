// Port of seed 003 ("ASYNCIO"), "asyncio.run()": hello after a second.
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<void> main_() {
  co_await aio::sleep(1);
  std::puts("hello");
}

int main() {
  aio::run(main_());
}
