// Two ways a server gets stuck, to see what aio's introspection says about each (docs/guide.md,
// "Debugging"):
//
//   stuck deadlock [--port N]  a handler takes two locks; the client's first line says in which
//                              order ("ab" or "ba"): two clients in opposite orders deadlock.
//                              `kill -QUIT PID` prints every task's call graph; aio-pstree PID
//                              shows the tree from outside.
//   stuck spin [--port N]      a handler computes for 3 s in one step: the stall detector
//                              (on at 0.5 s here) reports it while it runs, and when it ends.
//
// Prints "listening on 127.0.0.1:PORT" once it accepts (port 0, the default, picks one).
#include <aio/aio.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

namespace {

aio::Lock lock_a, lock_b;

aio::Coro<void> transfer(aio::Lock& first, aio::Lock& second) {
  co_await first.acquire();
  co_await aio::sleep(0.1);  // long enough for the other client to take the other lock
  co_await second.acquire();
  second.release();
  first.release();
}

aio::Coro<void> handle_deadlock(aio::StreamReader reader, aio::StreamWriter writer) {
  try {
    const std::string order = co_await reader.readline();
    if (order.rfind("ba", 0) == 0) {
      co_await transfer(lock_b, lock_a);
    } else {
      co_await transfer(lock_a, lock_b);
    }
    writer.write("done\n");
    co_await writer.drain();
  } catch (const std::system_error&) {
  }
  writer.close();
}

// A step that never yields: what a CPU-bound call on the loop's thread does to every client.
unsigned long long crunch(double seconds) {
  const double until = aio::perf_counter() + seconds;
  unsigned long long n = 0;
  while (aio::perf_counter() < until) n = n * 6364136223846793005ULL + 1;
  return n;
}

aio::Coro<void> handle_spin(aio::StreamReader reader, aio::StreamWriter writer) {
  try {
    co_await reader.readline();
    const unsigned long long n = crunch(3);
    writer.write(std::to_string(n % 1000) + "\n");
    co_await writer.drain();
  } catch (const std::system_error&) {
  }
  writer.close();
}

aio::Coro<void> serve(bool spin, std::uint16_t port) {
  aio::Server server =
      co_await aio::start_server(spin ? handle_spin : handle_deadlock, "127.0.0.1", port);
  std::printf("listening on 127.0.0.1:%u\n", server.port());
  std::fflush(stdout);
  co_await server.serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
  const bool spin = argc > 1 && std::strcmp(argv[1], "spin") == 0;
  if (argc < 2 || (!spin && std::strcmp(argv[1], "deadlock") != 0)) {
    std::fprintf(stderr, "usage: stuck deadlock|spin [--port N]\n");
    return 2;
  }
  std::uint16_t port = 0;
  if (argc > 3 && std::strcmp(argv[2], "--port") == 0) {
    port = static_cast<std::uint16_t>(std::atoi(argv[3]));
  }
  aio::RunOptions options;
  options.stall_threshold = 0.5;
  aio::Runner runner(options);
  runner.get_loop();  // made now, so that the dump is installed on it
  aio::install_task_dump(SIGQUIT);
  try {
    runner.run(serve(spin, port));
  } catch (const aio::KeyboardInterrupt&) {
    return 130;  // Ctrl+C
  }
}
