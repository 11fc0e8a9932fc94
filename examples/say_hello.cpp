// Port of seed 004 ("Async programming in python"): say_hello, and the type of a coroutine.
#include <cxxabi.h>
#include <aio/aio.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

// say_hello is a coroutine
aio::Coro<void> say_hello(std::string name) {
  // wait and say hello
  // Notice co_await causes the task to stop at sleep
  // and resume again when the sleep gets completed.
  co_await aio::sleep(1);
  std::printf("Hello, %s\n", name.c_str());
}

int main() {
  aio::Coro<void> say_hello_obj = say_hello("John");
  // Python prints <class 'coroutine'>; this prints the C++ type: <class 'aio::Coro<void>'>
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> type(
      abi::__cxa_demangle(typeid(say_hello_obj).name(), nullptr, nullptr, &status), std::free);
  std::printf("<class '%s'>\n", type.get());

  // to run the coroutine use aio::run
  aio::run(std::move(say_hello_obj));
}
