// Port of seed 001 ("Python: AsyncIO"), "Event Loops": a loop (new_event_loop() and
// set_event_loop(), where the seed's get_event_loop() made one before Python 3.14),
// run_until_complete() in a try block, close() in finally; main() is the coffee/bagel one of
// the same tutorial.
#include <aio/aio.hpp>
#include <cstdio>
#include <memory>
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
  auto [coffee_result, bagel_result] = co_await aio::gather(brew_coffee(), toast_bagel());
  std::printf("%s %s\n", coffee_result.c_str(), bagel_result.c_str());
}

// What print() shows for a bool
const char* py_bool(bool b) {
  return b ? "True" : "False";
}

int main() {
  // Instantiate the loop (asyncio 3.14's get_event_loop() no longer makes one: new_event_loop()
  // and set_event_loop() do, as in Python 3.14)
  std::unique_ptr<aio::EventLoop> owned = aio::new_event_loop();
  aio::set_event_loop(owned.get());
  aio::EventLoop& loop = *owned;

  // C++ has no `finally`: this runs on both ways out of the try block
  auto finally_block = [&] {
    loop.close();
    std::printf("is_closed(): %s\n", py_bool(loop.is_closed()));  // True
  };
  try {
    std::printf("is_running(): %s\n", py_bool(loop.is_running()));  // False: not running yet
    loop.run_until_complete(main_());
  } catch (...) {
    finally_block();
    throw;
  }
  finally_block();
}
