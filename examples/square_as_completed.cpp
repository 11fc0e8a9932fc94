// Port of seed 000 ("Python Asynchronous Programming"): square with as_completed (when_done).
#include <aio/aio.hpp>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

aio::Coro<int> square(int x) {
  std::printf("Square %d\n", x);
  co_await aio::sleep(1);
  std::printf("End square %d\n", x);
  co_return x* x;
}

aio::Coro<void> when_done(std::vector<aio::Coro<int>> tasks) {
  for (auto res : aio::as_completed(tasks)) {
    std::printf("Result: %d\n", co_await std::move(res));
  }
}

int main() {
  // Create event loop (asyncio 3.14's get_event_loop() no longer makes one: new_event_loop()
  // and set_event_loop() do, as in Python 3.14)
  std::unique_ptr<aio::EventLoop> owned = aio::new_event_loop();
  aio::set_event_loop(owned.get());
  aio::EventLoop& loop = *owned;
  std::vector<aio::Coro<int>> tasks;  // Coros are move-only: no braced list
  for (int x : {1, 2, 3}) tasks.push_back(square(x));
  loop.run_until_complete(when_done(std::move(tasks)));
}
