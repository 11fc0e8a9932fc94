// Port of seed 002 ("Asynchronous Programming"): countsync.py, the synchronous version.
// The blocking contrast to countasync: no event loop, and std::this_thread::sleep_for blocks
// the thread as time.sleep does, so this takes 3 seconds, even under AIO_VIRTUAL_TIME=1.
#include <aio/clock.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

void count() {
  std::puts("One");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::puts("Two");
}

void main_() {
  for (int i = 0; i < 3; ++i) count();
}

int main() {
  double s = aio::perf_counter();  // time.perf_counter()
  main_();
  double elapsed = aio::perf_counter() - s;
  // __FILE__, the path of this source file, stands for Python's __file__ (the script's path).
  std::printf("%s executed in %0.2f seconds.\n", __FILE__, elapsed);
}
