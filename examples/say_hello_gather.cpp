// Port of seed 004 ("Async programming in python"): say_hello with a sleep never awaited,
// gathered over three names.
#include <aio/aio.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

aio::Coro<void> say_hello(std::string name) {
  // Async operation is not carried out: the sleep is made and dropped unawaited (the cast
  // because it is [[nodiscard]]). Python warns "coroutine 'sleep' was never awaited"; aio's
  // sleep() returns a plain awaitable, not a coroutine, and says nothing.
  (void)aio::sleep(1);
  std::printf("Hello, %s\n", name.c_str());
  co_return;
}

aio::Coro<void> async_tasks(std::vector<std::string> names) {
  std::vector<aio::Coro<void>> coros;  // Python's [say_hello(name) for name in names]
  for (const std::string& name : names) coros.push_back(say_hello(name));
  co_await aio::gather(std::move(coros));
}

// Using synchronous operations inside an async method
// will also make it behave like a synchronous method
// because the task will yield its control only when
// an await is encountered. (Python redefines say_hello; C++ needs another name. Never called,
// in Python too.)
aio::Coro<void> say_hello_blocking(std::string name) {
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::printf("Hello, %s\n", name.c_str());
  co_return;
}

int main() {
  // This prints the greetings to the names in order
  // without sleeping
  aio::run(async_tasks({"John", "Jane", "Alice"}));
}
