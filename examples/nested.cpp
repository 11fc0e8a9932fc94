// Port of seed 003 ("ASYNCIO"), "AWAITABLE OBJECTS": nested() -> 42.
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<int> nested() {
  co_return 42;
}

aio::Coro<void> main_() {
  // Nothing happens if we just call "nested()".
  // A Coro is created but not awaited,
  // so it *won't run at all*.
  // (Coro is [[nodiscard]], hence the cast. Python warns "coroutine 'nested' was never awaited";
  // aio does too, in debug mode: AIO_DEBUG=1.)
  (void)nested();

  std::printf("%d\n", co_await nested());
}

int main() {
  aio::run(main_());
}
