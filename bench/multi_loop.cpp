// aio-bench's workloads on several loops, each on its own thread (aio::run_parallel):
//   --loops N spawn COUNT    COUNT tasks spread over N loops: each spawns and gathers its share
//   xpingpong COUNT          two loops pass a token COUNT times through two Channel(1)s
//   xchannel COUNT           a producer loop sends COUNT integers to a consumer loop through a
//                            Channel(1024)
//   xrun_on COUNT            COUNT run_on() round trips from one loop to another
//   --loops N echo-server PORT   the echo server on N loops (start_server_group)
// The timed window runs from the moment every loop is ready (a barrier) to the moment the
// last one is done, so thread start-up is not counted. One JSON line, as the other workloads.
// Diagnostics: AIO_PIN=1 pins loop i to the i-th usable CPU; AIO_BENCH_METRICS=1 prints each
// loop's turns, steps and idle time (LoopMetrics) to stderr when it is done.
#include "multi_loop.hpp"
#include "echo_handlers.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <aio/aio.hpp>

namespace aio_bench {

namespace {

constexpr int exit_check_failed = 1;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_s(int who) {
  rusage ru{};
  getrusage(who, &ru);
  auto secs = [](timeval tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec * 1e-6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// Every shard waits here until all are ready; each notes when it started and ended.
struct Window {
  explicit Window(int shards) : shards(shards) {}
  void arrive() {
    ready.fetch_add(1);
    while (ready.load() < shards) std::this_thread::yield();
    const double t = now_s();
    double seen = start.load();
    while (t < seen && !start.compare_exchange_weak(seen, t)) {
    }
  }
  void leave() {
    if (std::getenv("AIO_BENCH_METRICS")) {
      const aio::LoopMetrics m = aio::get_running_loop().metrics();
      std::fprintf(stderr, "loop: iterations %llu steps %llu callbacks %llu idle %.3f s\n",
                   static_cast<unsigned long long>(m.iterations),
                   static_cast<unsigned long long>(m.steps),
                   static_cast<unsigned long long>(m.callbacks), m.idle_seconds);
    }
    const double t = now_s();
    double seen = end.load();
    while (t > seen && !end.compare_exchange_weak(seen, t)) {
    }
  }
  double seconds() const { return end.load() - start.load(); }
  const int shards;
  std::atomic<int> ready{0};
  std::atomic<double> start{1e300};
  std::atomic<double> end{0};
};

aio::Coro<std::int64_t> spawned(std::int64_t i) {
  co_await aio::sleep(0);
  co_return i;
}

// One shard's share of spawn: tasks [first, last).
aio::Coro<std::int64_t> spawn_share(std::int64_t first, std::int64_t last, Window& window) {
  aio::EventLoop& loop = aio::get_running_loop();
  std::vector<aio::Task<std::int64_t>> tasks;
  tasks.reserve(static_cast<std::size_t>(last - first));
  window.arrive();
  for (std::int64_t i = first; i < last; ++i) tasks.push_back(loop.create_task(spawned(i)));
  std::vector<std::int64_t> values = co_await aio::gather(tasks);
  window.leave();
  std::int64_t sum = 0;
  for (std::int64_t v : values) sum += v;
  co_return sum;
}

aio::Coro<std::int64_t> ping_side(aio::Channel<std::int64_t>& ping,
                                  aio::Channel<std::int64_t>& pong, std::int64_t n,
                                  Window& window) {
  window.arrive();
  std::int64_t v = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    co_await ping.send(v);
    v = co_await pong.recv();
  }
  window.leave();
  co_return v;
}

aio::Coro<std::int64_t> pong_side(aio::Channel<std::int64_t>& ping,
                                  aio::Channel<std::int64_t>& pong, std::int64_t n,
                                  Window& window) {
  window.arrive();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t v = co_await ping.recv();
    co_await pong.send(v + 1);
  }
  window.leave();
  co_return 0;
}

aio::Coro<std::int64_t> produce(aio::Channel<std::int64_t>& ch, std::int64_t n, Window& window) {
  window.arrive();
  for (std::int64_t i = 0; i < n; ++i) co_await ch.send(i);
  ch.close();
  window.leave();
  co_return 0;
}

aio::Coro<std::int64_t> consume(aio::Channel<std::int64_t>& ch, Window& window) {
  window.arrive();
  std::int64_t sum = 0;
  for (;;) {
    std::optional<std::int64_t> v = co_await ch.next();
    if (!v) break;
    sum += *v;
  }
  window.leave();
  co_return sum;
}

aio::Coro<std::int64_t> plus_one(std::int64_t v) {
  co_return v + 1;
}

aio::Coro<std::int64_t> run_on_caller(aio::EventLoop& target, std::int64_t n, Window& window) {
  window.arrive();
  std::int64_t v = 0;
  for (std::int64_t i = 0; i < n; ++i) v = co_await aio::run_on(target, plus_one(v));
  window.leave();
  co_return v;
}

aio::Coro<std::int64_t> idle_target(Window& window) {
  window.arrive();
  co_return 0;
}

void print(std::string_view workload, int loops, std::int64_t n, const Window& window, double cpu) {
  const double seconds = window.seconds();
  std::printf(
      "{\"workload\":\"%s\",\"impl\":\"aio\",\"n\":%lld,\"loops\":%d,\"seconds\":%.9f,"
      "\"ops_per_s\":%.3f,\"cpu_s\":%.6f}\n",
      std::string(workload).c_str(), static_cast<long long>(n), loops, seconds,
      seconds > 0 ? static_cast<double>(n) / seconds : 0.0, cpu);
  std::fflush(stdout);
}

aio::Coro<void> echo_group_main(aio::LoopGroup& loops, std::uint16_t port, bool streams) {
  aio::ServerOptions options;
  options.backlog = 1024;
  aio::ServerGroup servers;
  if (streams) {
    servers = co_await aio::start_server_group(loops.loops(), echo_stream, "127.0.0.1", port,
                                               std::move(options));
  } else {
    aio::ProtocolFactory factory = [] { return std::make_shared<EchoProtocol>(); };
    servers = co_await aio::create_server_group(loops.loops(), std::move(factory), "127.0.0.1",
                                                port, std::move(options));
  }
  aio::EventLoop& loop = aio::get_running_loop();
  aio::Event stop;
  loop.add_signal_handler(SIGTERM, [&stop] { stop.set(); });
  loop.add_signal_handler(SIGINT, [&stop] { stop.set(); });
  std::printf(
      "{\"workload\":\"echo-server\",\"impl\":\"aio\",\"port\":%u,\"ready\":true,"
      "\"echo\":\"%s\",\"loops\":%zu}\n",
      static_cast<unsigned>(servers.port()), streams ? "streams" : "protocol", loops.size());
  std::fflush(stdout);
  co_await stop.wait();
  co_await servers.close();
  co_await servers.abort_clients();
  co_await servers.wait_closed();
}

}  // namespace

bool is_multi_loop_workload(std::string_view workload) noexcept {
  return workload == "xpingpong" || workload == "xchannel" || workload == "xrun_on";
}

int run_multi_loop(std::string_view workload, int loops, std::int64_t n,
                   const aio::RunOptions& options, bool echo_streams) {
  const aio::ParallelOptions parallel{.run = options,
                                      .pin_cpus = std::getenv("AIO_PIN") != nullptr};
  try {
    if (workload == "echo-server") {
      if (n > 65535) {
        std::fprintf(stderr, "aio-bench: the port must be at most 65535\n");
        return 2;
      }
      aio::LoopGroup group(loops, {.run = options});
      aio::run(echo_group_main(group, static_cast<std::uint16_t>(n), echo_streams), options);
      return 0;
    }
    const double cpu0 = cpu_s(RUSAGE_SELF);
    std::int64_t got = 0, expected = 0;
    Window window(workload == "spawn" ? loops : 2);
    if (workload == "spawn") {
      auto shard = [&](int i) {
        const std::int64_t first = n * i / loops, last = n * (i + 1) / loops;
        return spawn_share(first, last, window);
      };
      for (std::int64_t s : aio::run_parallel(loops, shard, parallel)) got += s;
      expected = n * (n - 1) / 2;
    } else if (workload == "xpingpong") {
      aio::Channel<std::int64_t> ping(1), pong(1);
      auto shard = [&](int i) {
        return i == 0 ? ping_side(ping, pong, n, window) : pong_side(ping, pong, n, window);
      };
      got = aio::run_parallel(2, shard, parallel)[0];
      expected = n;
    } else if (workload == "xchannel") {
      aio::Channel<std::int64_t> ch(1024);
      auto shard = [&](int i) { return i == 0 ? produce(ch, n, window) : consume(ch, window); };
      got = aio::run_parallel(2, shard, parallel)[1];
      expected = n * (n - 1) / 2;
    } else {  // xrun_on
      auto shard = [&](int i, aio::LoopGroup& group) {
        return i == 0 ? run_on_caller(group[1], n, window) : idle_target(window);
      };
      got = aio::run_parallel(2, shard, parallel)[0];
      expected = n;
    }
    if (got != expected) {
      std::fprintf(stderr, "aio-bench: %s: bad result %lld, expected %lld\n",
                   std::string(workload).c_str(), static_cast<long long>(got),
                   static_cast<long long>(expected));
      return exit_check_failed;
    }
    print(workload, workload == "spawn" ? loops : 2, n, window, cpu_s(RUSAGE_SELF) - cpu0);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aio-bench: %s failed: %s\n", std::string(workload).c_str(), e.what());
    return exit_check_failed;
  }
}

}  // namespace aio_bench
