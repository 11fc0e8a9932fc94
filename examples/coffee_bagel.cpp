// Port of seed 001 ("Python: AsyncIO"), "Executing Multiple Coroutines": brew_coffee and
// toast_bagel, gathered.
#include <aio/aio.hpp>
#include <cstdio>
#include <string>

aio::Coro<std::string> brew_coffee() {
  std::puts("Start brewing coffee...");
  co_await aio::sleep(3);
  std::puts("Done brewing coffee.");
  co_return "Coffee is ready!";
}

aio::Coro<std::string> toast_bagel() {
  std::puts("Start toasting bagel...");
  co_await aio::sleep(3);
  std::puts("Done toasting bagel.");
  co_return "Bagel is ready!";
}

aio::Coro<void> main_() {
  // Group the coroutines together in a batch
  auto batch_coroutines = aio::gather(brew_coffee(), toast_bagel());

  // Run the coroutine group
  [[maybe_unused]] auto [coffee_result, bagel_result] = co_await batch_coroutines;
}

int main() {
  aio::run(main_());
}
