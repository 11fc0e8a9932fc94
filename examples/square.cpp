// Port of seed 000 ("Python Asynchronous Programming"), "Execute a Single Task": square(1).
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<int> square(int x) {
  std::printf("Square %d\n", x);
  co_await aio::sleep(1);
  std::printf("End square %d\n", x);
  co_return x* x;
}

int main() {
  // Create event loop (the thread's current loop, owned by the library: hence a reference)
  aio::EventLoop& loop = aio::get_event_loop();

  // Run async function and wait for completion
  int results = loop.run_until_complete(square(1));
  std::printf("%d\n", results);

  // Close the loop
  loop.close();
}
