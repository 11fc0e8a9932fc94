// Port of seed 002 ("Asynchronous Programming") and seed 003 ("ASYNCIO"): countasync.py.
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<void> count() {
  std::puts("One");
  co_await aio::sleep(1);
  std::puts("Two");
}

aio::Coro<void> main_() {
  co_await aio::gather(count(), count(), count());
}

int main() {
  double s = aio::perf_counter();  // time.perf_counter()
  aio::run(main_());
  double elapsed = aio::perf_counter() - s;
  // __FILE__, the path of this source file, stands for Python's __file__ (the script's path).
  std::printf("%s executed in %0.2f seconds.\n", __FILE__, elapsed);
}
