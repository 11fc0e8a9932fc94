// Prints what tests/conformance/py_random_check.py prints with CPython's random module, using
// examples/support/py_random.hpp.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "py_random.hpp"

namespace {

template <class F>
std::string list(int n, F draw) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(draw(i));
  return s + "]";
}

}  // namespace

int main() {
  const std::vector<std::int64_t> seeds = {
      444, 0, 1, -444, 4294967295LL, 4294967296LL, (1LL << 40) + 5, INT64_MAX, INT64_MIN};
  const int bits[] = {0, 1, 31, 32, 33, 63, 64};
  for (const std::int64_t seed : seeds) {
    py::random::seed(seed);
    std::printf("%s %s\n", std::to_string(seed).c_str(),
                list(20, [](int) { return py::random::randint(0, 10); }).c_str());
    const std::string small = list(10, [](int) { return py::random::randint(-5, 5); });
    std::printf("  %s %d\n", small.c_str(), py::random::randint(7, 7));
    std::printf("  %s\n", list(7, [&](int i) { return py::random::getrandbits(bits[i]); }).c_str());
    const std::string big = list(3, [](int) { return py::random::randint(0LL, 1LL << 40); });
    std::printf("  %s %s\n", big.c_str(),
                std::to_string(py::random::randint(-(1LL << 62), 1LL << 62)).c_str());
  }
}
