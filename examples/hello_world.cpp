// Port of seed 001 ("Python: AsyncIO"), "Coroutines & Tasks": Hello World with asyncio.run().
#include <aio/aio.hpp>
#include <cstdio>

// This is not a typical function now, but a coroutine! (`main` names C++'s entry point, so the
// coroutine is main_.)
aio::Coro<void> main_() {
  std::puts("Hello World!");
  co_return;  // a C++ coroutine needs a co_ keyword; an async def needs no await
}

// Run the coroutine
int main() {
  aio::run(main_());
}
