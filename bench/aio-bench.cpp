// aio-bench: aio's side of the benchmark harness in /work/shared/bench (see its README.md for
// the contract).
//
// Usage: aio-bench [--backend=epoll|io_uring|automatic] [--join=gather|each]
//                  [--echo=protocol|streams] WORKLOAD ARG
//   spawn N           N tasks, each yields once (sleep(0)) and returns i; main gathers them all
//   timers N          N tasks, each sleeps a pseudo-random d in [0, 1) s (the shared LCG)
//   pingpong N        two tasks pass a token N times through two aio::Queue(1)s
//   echo-server PORT  echo every byte on 127.0.0.1:PORT until SIGTERM, with a Protocol
//                     (default) or with streams (--echo=streams, or AIO_ECHO=streams)
//   echo-server-tls PORT  the same behind TLS; the certificate and key are the PEM files named
//                     by AIO_TLS_CERT and AIO_TLS_KEY, or a self-signed pair made at start
//                     (its path is in the ready line's "cert", for the client's cafile)
//   xpingpong N       two loops on two threads pass a token N times through two Channel(1)s
//   xchannel N        a producer loop sends N integers to a consumer loop (Channel(1024))
//   xrun_on N         N run_on() round trips from one loop to another
// --loops=N (or --loops N) runs spawn over N loops and echo-server on N loops (one port,
// SO_REUSEPORT); bench/multi_loop.cpp has the workloads on several loops.
// --join=each awaits the tasks one by one instead of with one gather (a diagnostic, default
// gather). Extra JSON keys: create_s (the task-creation loop, part of seconds); user_s, sys_s,
// minflt (getrusage deltas over the timed window); backend; join.
//
// One JSON line on stdout; diagnostics on stderr. Exit 0 on success, 1 if the self-check
// fails (or the workload throws), 2 for a usage error or a workload / backend aio lacks.
#include <aio/aio.hpp>

#include <sys/resource.h>

#include "echo_handlers.hpp"
#include "multi_loop.hpp"
#include "tls_cert.hpp"

#include <csignal>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int exit_check_failed = 1;
constexpr int exit_usage = 2;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* backend_name(aio::Backend b) {
  switch (b) {
    case aio::Backend::automatic:
      return "automatic";
    case aio::Backend::epoll:
      return "epoll";
    case aio::Backend::io_uring:
      return "io_uring";
  }
  return "?";
}

// The shared LCG: 32-bit state, seed 12345, state = state * 1664525 + 1013904223 mod 2^32,
// d = state / 2^32 seconds; the first delay uses the first updated state.
struct Lcg {
  std::uint32_t state = 12345;
  double next_unit() {
    state = state * 1664525u + 1013904223u;
    return state / 4294967296.0;
  }
};

// How main awaits its tasks: one aio::gather over all of them (the default), or each Task in
// turn, as the tokio peer joins its handles (a diagnostic: it isolates the cost of gather).
enum class Join { gather, each };

// The process's CPU time and page faults, to split the timed window into user and kernel work.
struct Usage {
  double user = 0;
  double sys = 0;
  long minflt = 0;
  static Usage now() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto secs = [](timeval tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec * 1e-6; };
    return {secs(ru.ru_utime), secs(ru.ru_stime), ru.ru_minflt};
  }
};

struct Result {
  double seconds = 0;
  Usage usage;                // over the timed window
  double create_seconds = 0;  // of `seconds`: the loop that creates the tasks
  std::int64_t sum = 0;
  double max_delay = 0;
  std::uint32_t lcg_final = 0;
};

// ---------------------------------------------------------------- spawn

aio::Coro<std::int64_t> spawn_task(std::int64_t i) {
  co_await aio::sleep(0);  // one yield: a real reschedule through the ready queue
  co_return i;
}

// Awaits every task; returns the sum of their values.
aio::Coro<std::int64_t> join_all(std::vector<aio::Task<std::int64_t>>& tasks, Join join) {
  std::int64_t sum = 0;
  if (join == Join::gather) {
    std::vector<std::int64_t> results = co_await aio::gather(tasks);
    for (std::int64_t v : results) sum += v;
  } else {
    for (aio::Task<std::int64_t>& t : tasks) sum += co_await t;
  }
  co_return sum;
}

aio::Coro<void> spawn_main(std::int64_t n, Join join, Result& out) {
  aio::EventLoop& loop = aio::get_running_loop();
  std::vector<aio::Task<std::int64_t>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  const Usage u0 = Usage::now();
  const double t0 = now_s();
  for (std::int64_t i = 0; i < n; ++i) tasks.push_back(loop.create_task(spawn_task(i)));
  out.create_seconds = now_s() - t0;
  out.sum = co_await join_all(tasks, join);
  out.seconds = now_s() - t0;
  const Usage u1 = Usage::now();
  out.usage = {u1.user - u0.user, u1.sys - u0.sys, u1.minflt - u0.minflt};
}

// ------------------------------------------------------------- pingpong

// The peer: N times v = get(ping); put(pong, v + 1).
aio::Coro<void> pong_peer(aio::Queue<std::int64_t>& ping, aio::Queue<std::int64_t>& pong,
                          std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) co_await pong.put(co_await ping.get() + 1);
}

aio::Coro<void> pingpong_main(std::int64_t n, Result& out) {
  aio::Queue<std::int64_t> ping(1), pong(1);
  const Usage u0 = Usage::now();
  const double t0 = now_s();
  auto peer = aio::create_task(pong_peer(ping, pong, n));
  std::int64_t v = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    co_await ping.put(v);
    v = co_await pong.get();
  }
  co_await peer;
  out.seconds = now_s() - t0;
  const Usage u1 = Usage::now();
  out.usage = {u1.user - u0.user, u1.sys - u0.sys, u1.minflt - u0.minflt};
  out.sum = v;
}

// --------------------------------------------------------------- timers

aio::Coro<std::int64_t> sleeper(std::int64_t i, double d) {
  co_await aio::sleep(d);
  co_return i;
}

aio::Coro<void> timers_main(std::int64_t n, Join join, Result& out) {
  aio::EventLoop& loop = aio::get_running_loop();
  std::vector<aio::Task<std::int64_t>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  Lcg rng;
  double max_d = 0;
  const Usage u0 = Usage::now();
  const double t0 = now_s();
  for (std::int64_t i = 0; i < n; ++i) {
    const double d = rng.next_unit();
    if (d > max_d) max_d = d;
    tasks.push_back(loop.create_task(sleeper(i, d)));
  }
  out.create_seconds = now_s() - t0;
  out.sum = co_await join_all(tasks, join);
  out.seconds = now_s() - t0;
  const Usage u1 = Usage::now();
  out.usage = {u1.user - u0.user, u1.sys - u0.sys, u1.minflt - u0.minflt};
  out.max_delay = max_d;
  out.lcg_final = rng.state;
}

// ----------------------------------------------------------------- echo-server

using aio_bench::echo_stream;
using aio_bench::EchoProtocol;

aio::Coro<void> echo_server_main(std::uint16_t port, bool streams, bool tls) {
  aio::EventLoop& loop = aio::get_running_loop();
  aio::ServerOptions options;
  options.backlog = 1024;
  std::string cert_path;
  if (tls) {
    const char* cert = std::getenv("AIO_TLS_CERT");
    const char* key = std::getenv("AIO_TLS_KEY");
    aio_examples::CertFiles files;
    if (cert && key) {
      files = {cert, key};
    } else {
      files = aio_examples::make_self_signed_cert();
    }
    cert_path = files.cert;
    options.ssl = aio::create_default_context(aio::Purpose::client_auth);
    options.ssl->load_cert_chain(files.cert, files.key);
  }
  aio::Server server;
  if (streams) {
    server = co_await aio::start_server(echo_stream, "127.0.0.1", port, std::move(options));
  } else {
    aio::ProtocolFactory factory = [] { return std::make_shared<EchoProtocol>(); };
    server = co_await loop.create_server(std::move(factory), "127.0.0.1", port, std::move(options));
  }
  aio::Event stop;
  loop.add_signal_handler(SIGTERM, [&stop] { stop.set(); });
  loop.add_signal_handler(SIGINT, [&stop] { stop.set(); });
  std::printf(
      "{\"workload\":\"%s\",\"impl\":\"aio\",\"port\":%u,\"ready\":true,"
      "\"echo\":\"%s\"%s%s%s}\n",
      tls ? "echo-server-tls" : "echo-server", static_cast<unsigned>(server.port()),
      streams ? "streams" : "protocol", tls ? ",\"cert\":\"" : "", cert_path.c_str(),
      tls ? "\"" : "");
  std::fflush(stdout);
  co_await stop.wait();
  server.close();
  server.abort_clients();
  co_await server.wait_closed();
}

// ----------------------------------------------------------------- main

int usage(const char* msg) {
  if (msg) std::fprintf(stderr, "aio-bench: %s\n", msg);
  std::fprintf(stderr,
               "usage: aio-bench [--backend=epoll|io_uring|automatic] [--join=gather|each] "
               "[--echo=protocol|streams] [--loops=N] spawn N | timers N | pingpong N | "
               "xpingpong N | xchannel N | xrun_on N | echo-server PORT | echo-server-tls PORT\n");
  return exit_usage;
}

bool parse_count(const char* s, std::int64_t& n) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0) return false;
  n = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  aio::RunOptions options;
  Join join = Join::gather;
  const char* echo_env = std::getenv("AIO_ECHO");
  bool echo_streams = echo_env && std::string_view(echo_env) == "streams";
  int loops = 1;
  int argi = 1;
  for (; argi < argc && std::strncmp(argv[argi], "--", 2) == 0; ++argi) {
    const std::string_view opt = argv[argi];
    if (opt == "--loops" || opt.starts_with("--loops=")) {
      const char* value = opt == "--loops" ? (argi + 1 < argc ? argv[++argi] : "") : argv[argi] + 8;
      std::int64_t count = 0;
      if (!parse_count(value, count) || count < 1 || count > 1024) {
        return usage("--loops takes a number of loops from 1 to 1024");
      }
      loops = static_cast<int>(count);
      continue;
    }
    constexpr std::string_view backend_opt = "--backend=";
    constexpr std::string_view join_opt = "--join=";
    constexpr std::string_view echo_opt = "--echo=";
    if (opt.starts_with(backend_opt)) {
      const std::string_view value = opt.substr(backend_opt.size());
      if (value == "epoll") {
        options.backend = aio::Backend::epoll;
      } else if (value == "io_uring" || value == "uring") {
        options.backend = aio::Backend::io_uring;
      } else if (value == "automatic" || value == "auto") {
        options.backend = aio::Backend::automatic;
      } else {
        return usage(("unknown backend " + std::string(value)).c_str());
      }
    } else if (opt.starts_with(join_opt)) {
      const std::string_view value = opt.substr(join_opt.size());
      if (value == "gather") {
        join = Join::gather;
      } else if (value == "each") {
        join = Join::each;
      } else {
        return usage(("unknown join " + std::string(value)).c_str());
      }
    } else if (opt.starts_with(echo_opt)) {
      const std::string_view value = opt.substr(echo_opt.size());
      if (value != "protocol" && value != "streams") {
        return usage(("unknown echo variant " + std::string(value)).c_str());
      }
      echo_streams = value == "streams";
    } else {
      return usage(("unknown option " + std::string(opt)).c_str());
    }
  }
  if (argc - argi != 2) return usage(nullptr);
  const std::string_view workload = argv[argi];
  std::int64_t n = 0;
  if (!parse_count(argv[argi + 1], n)) return usage("the argument must be a non-negative integer");

  if (aio_bench::is_multi_loop_workload(workload) ||
      (loops > 1 && (workload == "spawn" || workload == "echo-server"))) {
    return aio_bench::run_multi_loop(workload, loops, n, options, echo_streams);
  }
  if (loops > 1) return usage("--loops applies to spawn and echo-server");
  if (workload == "echo-server" || workload == "echo-server-tls") {
    if (n > 65535) return usage("the port must be at most 65535");
    try {
      aio::run(echo_server_main(static_cast<std::uint16_t>(n), echo_streams,
                                workload == "echo-server-tls"),
               options);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "aio-bench: %s failed: %s\n", std::string(workload).c_str(), e.what());
      return exit_check_failed;
    }
    return 0;
  }
  const bool spawn = workload == "spawn";
  const bool pingpong = workload == "pingpong";
  if (!spawn && !pingpong && workload != "timers") {
    return usage(("unknown workload " + std::string(workload)).c_str());
  }

  // Making the loop (and its backend) is set-up, not a workload failure: exit 2.
  std::unique_ptr<aio::Runner> runner;
  try {
    runner = std::make_unique<aio::Runner>(options);
    runner->get_loop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aio-bench: cannot create the event loop (backend %s): %s\n",
                 backend_name(options.backend), e.what());
    return exit_usage;
  }

  Result r;
  try {
    if (spawn) {
      runner->run(spawn_main(n, join, r));
    } else if (pingpong) {
      runner->run(pingpong_main(n, r));
    } else {
      runner->run(timers_main(n, join, r));
    }
    runner->close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aio-bench: %s failed: %s\n", std::string(workload).c_str(), e.what());
    return exit_check_failed;
  }

  const std::int64_t expected = pingpong ? n : n * (n - 1) / 2;
  if (r.sum != expected) {
    std::fprintf(stderr, "aio-bench: %s: bad sum %lld, expected %lld\n",
                 std::string(workload).c_str(), static_cast<long long>(r.sum),
                 static_cast<long long>(expected));
    return exit_check_failed;
  }

  const double rate = r.seconds > 0 ? static_cast<double>(n) / r.seconds : 0.0;
  if (spawn || pingpong) {
    std::printf(
        "{\"workload\":\"%s\",\"impl\":\"aio\",\"n\":%lld,\"seconds\":%.9f,"
        "\"ops_per_s\":%.3f,",
        spawn ? "spawn" : "pingpong", static_cast<long long>(n), r.seconds, rate);
  } else {
    std::printf(
        "{\"workload\":\"timers\",\"impl\":\"aio\",\"n\":%lld,\"seconds\":%.9f,"
        "\"ops_per_s\":%.3f,\"max_delay_s\":%.16g,\"overhead_s\":%.9f,\"lcg_final\":%u,",
        static_cast<long long>(n), r.seconds, rate, r.max_delay, r.seconds - r.max_delay,
        static_cast<unsigned>(r.lcg_final));
  }
  std::printf(
      "\"create_s\":%.9f,\"user_s\":%.6f,\"sys_s\":%.6f,\"minflt\":%ld,\"backend\":\"%s\","
      "\"join\":\"%s\"}\n",
      r.create_seconds, r.usage.user, r.usage.sys, r.usage.minflt, backend_name(options.backend),
      join == Join::gather ? "gather" : "each");
  std::fflush(stdout);
  return 0;
}
