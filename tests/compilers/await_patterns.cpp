// The coroutine patterns docs/guide.md ("Compilers") lists, each a case run by name:
// check_compilers.cmake builds this with each compiler and checks the outcome the guide gives.
//
// co_await in the condition of an if, while, do-while, for or switch, in a coroutine that
// declares no variable: GCC 12 lays its frame out wrong (GCC PR 106188) and the whole coroutine
// breaks, even where the condition is never reached. Each of these cases counts one hit.
//
// A lambda passed by value inside a co_await full-expression (converted to a std::function
// parameter, or taken by a template): GCC 12 destroys it twice (GCC PR 100611). These cases
// return destructions minus constructions. (braced_list_in_await.cpp has the braced list that
// GCC 12 rejects; vector_first here is its safe form.)
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lazy_task.hpp"

namespace {

int hits = 0;

Task<bool> yes() {
  co_await Park{};
  co_return true;
}

Task<int> five() {
  co_await Park{};
  co_return 5;
}

// Conditions: the forms GCC 12 miscompiles.

Task<int> in_if() {
  if (co_await yes()) ++hits;
  co_return hits;
}

Task<int> in_if_not() {
  if (!co_await yes()) hits = -1;
  ++hits;
  co_return hits;
}

Task<int> in_if_equals() {
  if (co_await five() == 5) ++hits;
  co_return hits;
}

Task<int> in_if_and() {
  if (hits == 0 && co_await yes()) ++hits;
  co_return hits;
}

Task<int> in_while() {
  while (co_await yes()) {
    ++hits;
    break;
  }
  co_return hits;
}

Task<int> in_do_while() {
  do ++hits;
  while (!co_await yes());
  co_return hits;
}

Task<int> in_for() {
  for (; co_await yes();) {
    ++hits;
    break;
  }
  co_return hits;
}

Task<int> in_switch() {
  switch (co_await five()) {
    case 5:
      ++hits;
      break;
    default:
      break;
  }
  co_return hits;
}

// The condition is never reached, yet the coroutine breaks at its first await.
Task<int> unreached() {
  co_await Park{};
  ++hits;
  if (hits > 1) {
    if (co_await yes()) hits = -1;
  }
  co_return hits;
}

struct Holder {
  Task<int> in_if() {
    if (co_await yes()) ++hits;
    co_return hits;
  }
};

// Conditions, the safe forms: the result named first or declared in the condition, an expression
// that is not a condition, a lambda.

Task<int> named_first() {
  bool ok = co_await yes();
  if (ok) ++hits;
  co_return hits;
}

Task<int> declared_in_if() {
  if (bool ok = co_await yes()) hits += ok;
  co_return hits;
}

Task<int> declared_in_while() {
  while (bool ok = co_await yes()) {
    hits += ok;
    break;
  }
  co_return hits;
}

Task<int> declared_in_switch() {
  switch (int n = co_await five()) {
    case 5:
      hits += n - 4;
      break;
    default:
      break;
  }
  co_return hits;
}

Task<int> conditional_operator() {
  hits += co_await yes() ? 1 : 0;
  co_return hits;
}

auto lambda = []() -> Task<int> {
  if (co_await yes()) ++hits;
  co_return hits;
};

int made = 0;
int destroyed = 0;

struct Counted {
  Counted() { ++made; }
  Counted(const Counted&) { ++made; }
  Counted(Counted&&) noexcept { ++made; }
  Counted& operator=(const Counted&) = default;
  ~Counted() { ++destroyed; }
};

Task<int> call(std::function<int()> f) {
  co_await Park{};
  co_return f();
}

template <class F>
Task<int> call_template(F f) {
  co_await Park{};
  co_return f();
}

Task<int> count(std::vector<std::string> args) {
  co_await Park{};
  co_return static_cast<int>(args.size());
}

// Temporaries: the forms GCC 12 gets wrong.

Task<int> lambda_to_function() {
  Counted c;
  co_return co_await call([c] { return 1; });
}

Task<int> lambda_to_template() {
  Counted c;
  co_return co_await call_template([c] { return 1; });
}

// Temporaries, the safe forms: named first, moved into the call.

Task<int> named_function() {
  Counted c;
  std::function<int()> f = [c] { return 1; };
  co_return co_await call(std::move(f));
}

Task<int> named_lambda() {
  Counted c;
  auto f = [c] { return 1; };
  co_return co_await call_template(std::move(f));
}

Task<int> vector_first() {
  std::vector<std::string> args{std::string(40, 'a'), std::string(40, 'b')};
  co_return co_await count(std::move(args));
}

template <Task<int> (*F)()>
int balance() {
  int result = F().run();
  if (result != 1) return 100 + result;  // a wrong result, told apart from the counts
  return destroyed - made;
}

const Case cases[] = {
    {"if", [] { return in_if().run(); }, 1},
    {"if_not", [] { return in_if_not().run(); }, 1},
    {"if_equals", [] { return in_if_equals().run(); }, 1},
    {"if_and", [] { return in_if_and().run(); }, 1},
    {"while", [] { return in_while().run(); }, 1},
    {"do_while", [] { return in_do_while().run(); }, 1},
    {"for", [] { return in_for().run(); }, 1},
    {"switch", [] { return in_switch().run(); }, 1},
    {"unreached", [] { return unreached().run(); }, 1},
    {"member_if", [] { return Holder{}.in_if().run(); }, 1},
    {"named_first", [] { return named_first().run(); }, 1},
    {"declared_in_if", [] { return declared_in_if().run(); }, 1},
    {"declared_in_while", [] { return declared_in_while().run(); }, 1},
    {"declared_in_switch", [] { return declared_in_switch().run(); }, 1},
    {"conditional_operator", [] { return conditional_operator().run(); }, 1},
    {"lambda_if", [] { return lambda().run(); }, 1},
    {"lambda_to_function", balance<lambda_to_function>, 0},
    {"lambda_to_template", balance<lambda_to_template>, 0},
    {"named_function", balance<named_function>, 0},
    {"named_lambda", balance<named_lambda>, 0},
    {"vector_first", [] { return vector_first().run(); }, 2},
};

}  // namespace

int main(int argc, char** argv) {
  return run_case(argc, argv, cases);
}
