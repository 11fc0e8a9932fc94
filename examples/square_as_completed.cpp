// Port of seed 000 ("Python Asynchronous Programming"): square with as_completed (when_done).
#include <aio/aio.hpp>
#include <cstdio>
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
  aio::EventLoop& loop = aio::get_event_loop();
  std::vector<aio::Coro<int>> tasks;  // Coros are move-only: no braced list
  for (int x : {1, 2, 3}) tasks.push_back(square(x));
  loop.run_until_complete(when_done(std::move(tasks)));
}
