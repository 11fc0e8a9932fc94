// Port of seed 000 ("Python Asynchronous Programming"), "Execute Multiple Tasks": square with
// gather.
#include <aio/aio.hpp>
#include <cstdio>
#include <memory>

aio::Coro<int> square(int x) {
  std::printf("Square %d\n", x);
  co_await aio::sleep(1);
  std::printf("End square %d\n", x);
  co_return x* x;
}

int main() {
  // Create event loop (asyncio 3.14's get_event_loop() no longer makes one: new_event_loop()
  // and set_event_loop() do, as in Python 3.14)
  std::unique_ptr<aio::EventLoop> owned = aio::new_event_loop();
  aio::set_event_loop(owned.get());
  aio::EventLoop& loop = *owned;

  // Run async function and wait for completion; gather's results are a tuple
  auto [a, b, c] = loop.run_until_complete(aio::gather(square(1), square(2), square(3)));
  std::printf("[%d, %d, %d]\n", a, b, c);  // printed as Python prints the list

  // Close the loop
  loop.close();
}
