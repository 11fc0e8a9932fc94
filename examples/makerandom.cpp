// Port of seed 002 ("Asynchronous Programming"), "Coroutine": makerandom(), gathered 3 times.
#include <aio/aio.hpp>
#include <cstdio>
#include <utility>
#include <vector>

#include "py_random.hpp"  // CPython's random module: the same numbers for random.seed(444)

// ANSI colors
const char* const c[] = {
    "\033[0m",   // End of color
    "\033[36m",  // Cyan
    "\033[91m",  // Red
    "\033[35m",  // Magenta
};

aio::Coro<int> makerandom(int idx, int threshold = 6) {
  std::printf("%sInitiated makerandom(%d).\n", c[idx + 1], idx);
  int i = py::random::randint(0, 10);
  while (i <= threshold) {
    std::printf("%smakerandom(%d) == %d too low; retrying.\n", c[idx + 1], idx, i);
    co_await aio::sleep(idx + 1);
    i = py::random::randint(0, 10);
  }
  std::printf("%s---> Finished: makerandom(%d) == %d%s\n", c[idx + 1], idx, i, c[0]);
  co_return i;
}

aio::Coro<std::vector<int>> main_() {
  std::vector<aio::Coro<int>> coros;  // what Python's *(generator) unpacks
  for (int i = 0; i < 3; ++i) coros.push_back(makerandom(i, 10 - i - 1));
  std::vector<int> res = co_await aio::gather(std::move(coros));
  co_return res;
}

int main() {
  py::random::seed(444);
  std::vector<int> r = aio::run(main_());  // Python unpacks it: r1, r2, r3 = ...
  std::printf("\n");
  std::printf("r1: %d, r2: %d, r3: %d\n", r.at(0), r.at(1), r.at(2));
}
