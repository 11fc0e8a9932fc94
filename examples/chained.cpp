// Port of seed 002 ("Asynchronous Programming"), "Chaining Coroutines": part1, part2, chain.
#include <aio/aio.hpp>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "py_random.hpp"  // CPython's random module: the same numbers for random.seed(444)

aio::Coro<std::string> part1(int n) {
  int i = py::random::randint(0, 10);
  std::printf("part1(%d) sleeping for %d seconds.\n", n, i);
  co_await aio::sleep(i);
  std::string result = "result" + std::to_string(n) + "-1";
  std::printf("Returning part1(%d) == %s.\n", n, result.c_str());
  co_return result;
}

// Python prints the tuple (n, arg) as (1, 'result1-1'): so does the format "(%d, '%s')".
aio::Coro<std::string> part2(int n, std::string arg) {
  int i = py::random::randint(0, 10);
  std::printf("part2(%d, '%s') sleeping for %d seconds.\n", n, arg.c_str(), i);
  co_await aio::sleep(i);
  std::string result = "result" + std::to_string(n) + "-2 derived from " + arg;
  std::printf("Returning part2(%d, '%s') == %s.\n", n, arg.c_str(), result.c_str());
  co_return result;
}

aio::Coro<void> chain(int n) {
  double start = aio::perf_counter();
  std::string p1 = co_await part1(n);
  std::string p2 = co_await part2(n, p1);
  double end = aio::perf_counter() - start;
  std::printf("-->Chained result%d => %s (took %0.2f seconds).\n", n, p2.c_str(), end);
}

aio::Coro<void> main_(std::vector<int> args) {  // Python's main(*args)
  std::vector<aio::Coro<void>> chains;
  for (int n : args) chains.push_back(chain(n));
  co_await aio::gather(std::move(chains));
}

int main(int argc, char** argv) {
  py::random::seed(444);
  std::vector<int> args = {1, 2, 3};
  if (argc > 1) {
    args.clear();
    for (int k = 1; k < argc; ++k) args.push_back(std::stoi(argv[k]));  // map(int, sys.argv[1:])
  }
  double start = aio::perf_counter();
  aio::run(main_(args));
  double end = aio::perf_counter() - start;
  std::printf("Program finished in %0.2f seconds.\n", end);
}
