// Port of seed 000 ("Python Asynchronous Programming"), "Execute Multiple Tasks": square with
// gather.
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<int> square(int x) {
  std::printf("Square %d\n", x);
  co_await aio::sleep(1);
  std::printf("End square %d\n", x);
  co_return x* x;
}

int main() {
  // Create event loop
  aio::EventLoop& loop = aio::get_event_loop();

  // Run async function and wait for completion; gather's results are a tuple
  auto [a, b, c] = loop.run_until_complete(aio::gather(square(1), square(2), square(3)));
  std::printf("[%d, %d, %d]\n", a, b, c);  // printed as Python prints the list

  // Close the loop
  loop.close();
}
