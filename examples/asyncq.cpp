// Port of seed 002 ("Asynchronous Programming"), "Queue": asyncq.py, producers and consumers on
// an asyncio.Queue; arguments as `asyncq -p 2 -c 3` or `asyncq --nprod=2 --ncon=3` (default 5 10).
#include <aio/aio.hpp>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "py_argparse.hpp"  // Python's argparse, for -p/--nprod and -c/--ncon
#include "py_random.hpp"    // CPython's random module: the same numbers for random.seed(444)

using Item = std::pair<std::string, double>;  // Python's tuple (i, t)
// Python's tasks keep the queue alive by reference: the consumers, cancelled at the end of
// main(), run their cancellation after main() has returned. They share it here for that.
using ItemQueue = std::shared_ptr<aio::Queue<Item>>;

aio::Coro<std::string> makeitem(int size = 5) {
  // os.urandom(size).hex(): bytes from the OS's random source, different on every run
  static std::random_device urandom;
  std::string hex;
  for (int k = 0; k < size; ++k) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", urandom() & 0xffu);
    hex += byte;
  }
  co_return hex;
}

// a and b are unused, in Python too (it draws randint(0, 10)); `if caller:` is false for None
// and for "", so an empty string stands for None.
aio::Coro<void> randsleep([[maybe_unused]] int a = 1, [[maybe_unused]] int b = 5,
                          std::string caller = {}) {
  int i = py::random::randint(0, 10);
  if (!caller.empty()) {
    std::printf("%s sleeping for %d seconds.\n", caller.c_str(), i);
  }
  co_await aio::sleep(i);
}

aio::Coro<void> produce(int name, ItemQueue q) {
  int n = py::random::randint(0, 10);
  for (int k = 0; k < n; ++k) {  // Synchronous loop for each single producer
    co_await randsleep(1, 5, "Producer " + std::to_string(name));
    std::string i = co_await makeitem();
    double t = aio::perf_counter();
    co_await q->put({i, t});
    std::printf("Producer %d added <%s> to queue.\n", name, i.c_str());
  }
}

aio::Coro<void> consume(int name, ItemQueue q) {
  while (true) {
    co_await randsleep(1, 5, "Consumer " + std::to_string(name));
    auto [i, t] = co_await q->get();
    double now = aio::perf_counter();
    std::printf("Consumer %d got element <%s> in %0.5f seconds.\n", name, i.c_str(), now - t);
    q->task_done();
  }
}

aio::Coro<void> main_(int nprod, int ncon) {
  ItemQueue q = std::make_shared<aio::Queue<Item>>();
  std::vector<aio::Task<void>> producers;
  for (int n = 0; n < nprod; ++n) producers.push_back(aio::create_task(produce(n, q)));
  std::vector<aio::Task<void>> consumers;
  for (int n = 0; n < ncon; ++n) consumers.push_back(aio::create_task(consume(n, q)));
  co_await aio::gather(producers);
  co_await q->join();  // Implicitly awaits consumers, too
  for (aio::Task<void>& c : consumers) c.cancel();
}

int main(int argc, char** argv) {
  py::random::seed(444);
  py::argparse::ArgumentParser parser(argv[0]);
  parser.add_argument("-p", "--nprod", 5);  // type=int, default=5
  parser.add_argument("-c", "--ncon", 10);
  py::argparse::Namespace ns = parser.parse_args(argc, argv);
  double start = aio::perf_counter();
  aio::run(main_(ns.at("nprod"), ns.at("ncon")));  // Python's main(**ns.__dict__)
  double elapsed = aio::perf_counter() - start;
  std::printf("Program completed in %0.5f seconds.\n", elapsed);
}
