// A braced list of strings passed inside a co_await full-expression: GCC 12 rejects it ("array
// used as initializer", GCC PR 103871). A program of its own, since it does not compile
// everywhere (await_patterns.cpp has the safe form): check_compilers.cmake builds it with each
// compiler and checks the outcome docs/guide.md ("Compilers") gives.
#include <string>
#include <vector>

#include "lazy_task.hpp"

namespace {

Task<int> count(std::vector<std::string> args) {
  co_await Park{};
  co_return static_cast<int>(args.size());
}

Task<int> braced_list() {
  co_return co_await count({std::string(40, 'a'), std::string(40, 'b')});
}

const Case cases[] = {
    {"braced_list", [] { return braced_list().run(); }, 2},
};

}  // namespace

int main(int argc, char** argv) {
  return run_case(argc, argv, cases);
}
