// Port of seed 001 ("Python: AsyncIO"): a task made with create_task(), then awaited.
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<void> foo() {
  std::puts("This goes first!");
  co_await aio::sleep(2);
}

aio::Coro<void> main_() {
  aio::Task<void> my_task = aio::create_task(foo());  // Make `foo()` a task
  co_await my_task;  // Let the task finish running and wait for completion...
  std::puts("This goes second, after waiting!");
}

int main() {
  aio::run(main_());
}
