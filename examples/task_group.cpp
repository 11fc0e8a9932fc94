// Port of seed 003 ("ASYNCIO"), "asyncio.TaskGroup": two tasks in a group, with the seed's
// fragment made a program (tests/conformance/task_group.py says what it adds).
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<void> coro1() {
  std::puts("coro1 started");
  co_await aio::sleep(1);
  std::puts("coro1 finished");
}

aio::Coro<void> coro2() {
  std::puts("coro2 started");
  co_await aio::sleep(2);
  std::puts("coro2 finished");
}

aio::Coro<void> main_() {
  // async with asyncio.TaskGroup() as tg: the block is a lambda given the group
  co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Coro<void> {
    aio::Task<void> task1 = tg.create_task(coro1());
    aio::Task<void> task2 = tg.create_task(coro2());
    co_return;
  });
  std::puts("Both tasks have completed now.");
}

int main() {
  aio::run(main_());
}
