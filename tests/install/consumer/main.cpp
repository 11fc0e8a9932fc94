// Built against the installed package: prints "installed aio works: 42".
#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<int> answer() {
  co_await aio::sleep(0.01);
  co_return 42;
}

int main() {
  std::printf("installed aio works: %d\n", aio::run(answer()));
}
