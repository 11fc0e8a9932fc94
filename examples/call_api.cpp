// Port of seed 003 ("ASYNCIO"), "asyncio.gather()": call_api twice, concurrently.
#include <aio/aio.hpp>
#include <cstdio>
#include <string>

aio::Coro<int> call_api(std::string message, int result, double delay = 3) {
  std::puts(message.c_str());
  co_await aio::sleep(delay);
  co_return result;
}

aio::Coro<void> main_() {
  auto [a, b] = co_await aio::gather(call_api("Calling API 1", 1), call_api("Calling API 2", 2));
  std::printf("%d %d\n", a, b);
}

int main() {
  aio::run(main_());
}
