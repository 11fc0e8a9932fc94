// tests/compilers/lazy_task.hpp — the shape of aio's Coro<T>, without aio, for the compiler checks.
//
// Task<T> is lazy and awaited by symmetric transfer; its operator co_await returns an awaiter by
// value, as Coro's does. Park suspends until run() resumes it, as a task waiting on the loop
// would. Each program prints "right" and exits 0 when the compiler got the case right, and
// anything else (a wrong value, a crash, a hang) when it did not: check_compilers.cmake judges.
#pragma once

#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <utility>

/// The coroutine waiting in Park, if any.
inline std::coroutine_handle<>& parked_handle() {
  static std::coroutine_handle<> h;
  return h;
}

template <class T>
class Task {
 public:
  struct promise_type {
    T value{};
    std::coroutine_handle<> continuation;

    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Final {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        if (h.promise().continuation) return h.promise().continuation;
        return std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    void return_value(T v) { value = std::move(v); }
    void unhandled_exception() { std::terminate(); }
  };

  struct Awaiter {
    std::coroutine_handle<promise_type> h;
    bool await_ready() { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
      h.promise().continuation = caller;
      return h;
    }
    T await_resume() { return std::move(h.promise().value); }
  };

  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  ~Task() {
    if (h_) h_.destroy();
  }
  Awaiter operator co_await() && { return Awaiter{h_}; }

  /// Starts the task, resumes what it parks until it is done, and returns its value.
  T run() {
    h_.resume();
    while (!h_.done() && parked_handle()) std::exchange(parked_handle(), nullptr).resume();
    if (!h_.done()) {
      std::puts("never finished");
      std::exit(1);
    }
    return std::move(h_.promise().value);
  }

 private:
  std::coroutine_handle<promise_type> h_;
};

/// Suspends until Task::run resumes it (a wait on the loop).
struct Park {
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<> h) { parked_handle() = h; }
  void await_resume() {}
};

/// One pattern: its name, what runs it, and what it returns when compiled right.
struct Case {
  const char* name;
  int (*run)();
  int expected;
};

/// Runs the case named by argv[1] and prints "right" when it returned what it should.
template <std::size_t N>
int run_case(int argc, char** argv, const Case (&cases)[N]) {
  for (const Case& c : cases) {
    if (argc < 2 || std::strcmp(argv[1], c.name) != 0) continue;
    int got = c.run();
    if (got == c.expected) {
      std::puts("right");
      return 0;
    }
    std::printf("wrong: %d instead of %d\n", got, c.expected);
    return 1;
  }
  std::printf("no case %s\n", argc < 2 ? "given" : argv[1]);
  return 2;
}
