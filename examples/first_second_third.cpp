// Port of seed 001 ("Python: AsyncIO"): main() and the foo() task take turns while each is idle.
#include <aio/aio.hpp>
#include <cstdio>
#include <string>

aio::Coro<std::string> foo();  // C++ declares before use; Python looks foo up when main runs

aio::Coro<void> main_() {
  aio::Task<std::string> my_task = aio::create_task(foo());  // 1. run this when there is idle time
  std::puts("This goes first!");                             // 2. This runs first
  co_await aio::sleep(2);                     // 3. Create idle time, let the foo() task run
  std::puts("This goes third!");              // 6. This runs third during the foo() idle time
  std::string foo_return = co_await my_task;  // 7. Don't cut foo() short; let it finish
  std::puts(foo_return.c_str());              // 9. Finish by printing foo()'s result
}

aio::Coro<std::string> foo() {
  std::puts("This goes second!");  // 4. This runs second during the main() idle time
  co_await aio::sleep(2);          // 5. Create idle time, let main() continue
  co_return "This goes fourth!";   // 8. Run this, as main() awaits foo() to finish
}

int main() {
  aio::run(main_());
}
