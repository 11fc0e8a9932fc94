// Port of seed 001 ("Python: AsyncIO"): wait for 5 seconds.
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<void> main_() {
  std::puts("Hello World!");
  co_await aio::sleep(5);
  std::puts("I just waited for 5 seconds!");
}

int main() {
  aio::run(main_());
}
