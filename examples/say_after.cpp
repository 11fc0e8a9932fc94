// Port of seed 003 ("ASYNCIO"), "COROUTINES - PRACTICALS": say_after, awaited in turn.
#include <aio/aio.hpp>
#include <cstdio>
#include <ctime>
#include <string>

// time.strftime(format): the wall clock in local time. (Under AIO_VIRTUAL_TIME=1 the sleeps take
// no real time, so "finished at" shows the same second as "started at".)
std::string time_strftime(const char* format) {
  std::time_t now = std::time(nullptr);
  char text[64];
  std::strftime(text, sizeof text, format, std::localtime(&now));
  return text;
}

aio::Coro<void> say_after(double delay, std::string what) {
  co_await aio::sleep(delay);
  std::puts(what.c_str());
}

aio::Coro<void> main_() {
  std::printf("started at %s\n", time_strftime("%X").c_str());

  co_await say_after(1, "hello");
  co_await say_after(2, "world");

  std::printf("finished at %s\n", time_strftime("%X").c_str());
}

int main() {
  aio::run(main_());
}
