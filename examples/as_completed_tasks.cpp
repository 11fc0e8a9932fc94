// Port of seed 004 ("Async programming in python"), "Top level asyncio functions": as_completed
// over two tasks. The seed's print(futures) prints a name defined nowhere (a NameError in
// Python): the line is dropped, here and in tests/conformance/as_completed_tasks.py.
#include <aio/aio.hpp>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <utility>
#include <vector>

aio::Coro<int> async_coroutine(int id) {
  co_await aio::sleep(1);
  std::printf("Inside coroutine with id:%d\n", id);
  co_return id;
}

// What print() shows for a bool
const char* py_bool(bool b) {
  return b ? "True" : "False";
}

aio::Coro<void> main_() {
  aio::Task<int> task1 = aio::create_task(async_coroutine(1));
  aio::Task<int> task2 = aio::create_task(async_coroutine(2));
  // (The seed's print(futures) was here: no futures is defined.)
  // as_completed returns an iterator of coroutines.
  // we will get the results in the order in which the coroutines complete
  std::vector<aio::Task<int>> tasks = {task1, task2};
  for (auto async_task : aio::as_completed(tasks)) {
    int result = co_await std::move(async_task);
    std::printf("Task result: %d\n", result);
  }

  const bool done[] = {task1.done(), task2.done()};
  std::printf("%s\n", py_bool(std::ranges::all_of(done, std::identity{})));  // all([...])
}

int main() {
  aio::run(main_());
}
