// mini_redis — a Redis-compatible server on aio's streams, as one would write it with asyncio:
// start_server(handler, host, port), one task per connection, and a background task for
// expiry. redis-cli and redis-benchmark talk to it; commands.hpp lists what it understands.
//
//   mini_redis [--host H] [--port N]     (defaults 127.0.0.1 and 6379; port 0: a free one)
//   mini_redis --tls --cert FILE --key FILE [--cafile FILE] ...   (as redis-server's tls-port;
//              with --cafile, clients must show a certificate that CA signed)
//   mini_redis --busy-poll US ...   (RunOptions::busy_poll: poll for up to US microseconds
//              before sleeping; more requests/s from a busy client, at the price of CPU)
//   mini_redis --threads N ...   (N loops on N threads, one key space partitioned over them:
//              shards.hpp; the replies are those of one loop)
//
// It prints "mini_redis listening on HOST:PORT" once it accepts connections. Each connection
// reads what has arrived (up to 64 KiB), runs every complete command in it and sends all their
// replies in one write: a pipelining client gets its replies in batches, as from Redis. A
// protocol error gets "-ERR Protocol error: ..." and the connection is closed, as in Redis.
// Between commands a connection keeps at most 64 KiB of buffers (buffers.hpp): one large SET
// or GET does not leave the connection holding a copy of the value.
// Ctrl+C or SIGTERM stops it.
#include <aio/aio.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "buffers.hpp"
#include "commands.hpp"
#include "resp.hpp"
#include "serve_until_cancelled.hpp"
#include "shards.hpp"
#include "store.hpp"

namespace {

constexpr std::int64_t read_size = 65536;

/// Serves one client until it quits, hangs up, or breaks the protocol. With `shards` (several
/// loops), the commands are routed to the loops that own their keys; `store` is this loop's.
aio::Coro<void> serve(mini_redis::Store& store, mini_redis::Shards* shards, std::int64_t id,
                      aio::StreamReader& reader, aio::StreamWriter& writer) {
  aio::EventLoop& loop = aio::get_running_loop();
  mini_redis::Parser parser;
  mini_redis::Session session;
  session.id = id;
  mini_redis::Command command;
  std::vector<mini_redis::Command> batch;  // --threads: what this read brought, routed at once
  std::string replies;
  while (!session.quit) {
    const std::string data = co_await reader.read(read_size);
    if (data.empty()) break;  // EOF
    parser.feed(data);
    const double now = loop.time();  // one time for the batch, as Redis caches it per command
    while (!session.quit && parser.next(command) == mini_redis::Parser::Status::command) {
      if (shards) {
        batch.push_back(std::move(command));
        command = {};
        continue;
      }
      mini_redis::execute(store, session, command, now, replies);
      mini_redis::empty_buffer(command);  // a large argument is not kept until the next command
    }
    if (!batch.empty()) {
      co_await shards->execute(session, batch, replies);
      batch.clear();
    }
    if (parser.failed() && !session.quit) {
      mini_redis::resp::error(replies, "ERR " + parser.error());
      session.quit = true;
    }
    if (!replies.empty()) {
      writer.write(replies);
      mini_redis::empty_buffer(replies);  // nor a large reply
      co_await writer.drain();
    }
  }
}

/// The connection's task. It shares the store: a task may outlive main_ while the loop stops.
aio::Coro<void> handle_client(std::shared_ptr<mini_redis::Store> store, mini_redis::Shards* shards,
                              std::int64_t id, aio::StreamReader reader, aio::StreamWriter writer) {
  try {
    co_await serve(*store, shards, id, reader, writer);
  } catch (const std::system_error&) {
    // The client reset the connection: nothing to tell anyone.
  } catch (const std::exception& error) {
    std::fprintf(stderr, "mini_redis: client %lld: %s\n", static_cast<long long>(id), error.what());
  }
  writer.close();  // sends what is still buffered, then closes
  try {
    co_await writer.wait_closed();
  } catch (const std::exception&) {
    // Lost while closing: it is closed all the same.
  }
}

/// Redis's active expiry: ten times a second, reclaim keys whose deadline has passed.
aio::Coro<void> expire_keys(std::shared_ptr<mini_redis::Store> store) {
  aio::EventLoop& loop = aio::get_running_loop();
  while (true) {
    co_await aio::sleep(0.1);
    store->expire_some(store->unix_ms(loop.time()));
  }
}

/// Where TLS comes from (--tls): start_server's ssl= option.
struct TlsFiles {
  bool on = false;
  std::string cert, key, cafile;
};

std::shared_ptr<aio::SSLContext> tls_context(const TlsFiles& tls) {
  if (!tls.on) return nullptr;
  auto ctx = aio::create_default_context(aio::Purpose::client_auth);
  ctx->load_cert_chain(tls.cert, tls.key);
  if (!tls.cafile.empty()) {
    ctx->load_verify_locations(tls.cafile);
    ctx->set_verify_mode(aio::VerifyMode::required);
  }
  return ctx;
}

aio::Coro<void> main_(std::string host, std::uint16_t port, TlsFiles tls) {
  aio::EventLoop& loop = aio::get_running_loop();
  // The loop's clock is monotonic; SET ... EXAT and TTL need Unix time: the store is told
  // what Unix time the loop's clock counts from.
  const double unix_now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto store = std::make_shared<mini_redis::Store>(unix_now - loop.time());
  auto next_id = std::make_shared<std::int64_t>(0);
  auto handler = [store, next_id](aio::StreamReader reader, aio::StreamWriter writer) {
    return handle_client(store, nullptr, ++*next_id, std::move(reader), std::move(writer));
  };
  aio::ServerOptions options;
  options.ssl = tls_context(tls);
  aio::Server server = co_await aio::start_server(handler, host, port, options);
  aio::Task<void> expiry = aio::create_task(expire_keys(store));
  aio::TaskRef self = *aio::current_task();
  loop.add_signal_handler(SIGTERM, [self]() mutable { self.cancel(); });
  const std::string shown = host.find(':') == std::string::npos ? host : "[" + host + "]";
  std::printf("mini_redis listening on %s:%u%s\n", shown.c_str(), unsigned{server.port()},
              tls.on ? " (TLS)" : "");
  std::fflush(stdout);
  co_await serve_until_cancelled(server);  // Ctrl+C: stops even with clients connected
}

// --threads N: N loops, each with its part of the key space (shards.hpp); every loop accepts
// connections on the one port (SO_REUSEPORT). Ctrl+C (run_parallel() cancels every loop) or
// SIGTERM (read from a signalfd by loop 0, which then tells the others) ends them all.
int run_sharded(const std::string& host, std::uint16_t port, int threads, const TlsFiles& tls,
                aio::RunOptions run_options) {
  std::vector<std::shared_ptr<mini_redis::Store>> stores(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  std::unique_ptr<mini_redis::Shards> shards;
  std::atomic<std::int64_t> next_id{0};
  aio::Watch<bool> stopping(false);  // loop 0 -> the others: the server has shut down
  // SIGTERM is taken from a signalfd (blocked in every thread, which inherit the mask).
  sigset_t term_set;
  sigemptyset(&term_set);
  sigaddset(&term_set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term_set, nullptr);
  const int term_fd = signalfd(-1, &term_set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (term_fd < 0) {
    std::perror("mini_redis: signalfd");
    return 1;
  }
  auto shard_main = [&](int shard, aio::LoopGroup& group) -> aio::Coro<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    const double unix_now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto store = std::make_shared<mini_redis::Store>(unix_now - loop.time());
    stores[static_cast<std::size_t>(shard)] = store;
    auto told_to_stop = stopping.subscribe();
    ++ready;
    aio::Task<void> expiry = aio::create_task(expire_keys(store));
    if (shard != 0) {
      co_await told_to_stop.changed();  // or cancelled (Ctrl+C)
      expiry.cancel();
      co_return;
    }
    while (ready < threads) co_await aio::sleep(0.001);
    shards = std::make_unique<mini_redis::Shards>(group.loops(), stores);
    mini_redis::Shards* routes = shards.get();
    auto handler = [routes, &next_id](aio::StreamReader reader, aio::StreamWriter writer) {
      const std::size_t here = routes->here();
      std::shared_ptr<mini_redis::Store> mine(std::shared_ptr<mini_redis::Store>{},
                                              &routes->store(here));
      return handle_client(std::move(mine), routes, ++next_id, std::move(reader),
                           std::move(writer));
    };
    aio::ServerOptions options;
    options.ssl = tls_context(tls);
    aio::ServerGroup servers =
        co_await aio::start_server_group(group.loops(), handler, host, port, std::move(options));
    aio::Event terminated;
    loop.add_reader(term_fd, [&terminated, term_fd] {
      signalfd_siginfo info;
      while (::read(term_fd, &info, sizeof info) == sizeof info) terminated.set();
    });
    const std::string shown = host.find(':') == std::string::npos ? host : "[" + host + "]";
    std::printf("mini_redis listening on %s:%u%s (%d threads)\n", shown.c_str(),
                unsigned{servers.port()}, tls.on ? " (TLS)" : "", threads);
    std::fflush(stdout);
    std::exception_ptr cancelled;
    try {
      co_await terminated.wait();
    } catch (const aio::CancelledError&) {
      cancelled = std::current_exception();
    }
    loop.remove_reader(term_fd);
    co_await servers.close_clients();
    co_await servers.shutdown(2.0);  // stop accepting; the clients get 2 s, then are cut off
    stopping.send(true);
    expiry.cancel();
    if (cancelled) std::rethrow_exception(cancelled);
  };
  int status = 0;
  try {
    aio::run_parallel(threads, shard_main, {.run = run_options});
  } catch (const aio::KeyboardInterrupt&) {
  } catch (const std::exception& error) {
    std::fprintf(stderr, "mini_redis: %s\n", error.what());
    status = 1;
  }
  ::close(term_fd);
  return status;
}

[[noreturn]] void usage(const char* prog, const std::string& error) {
  std::fprintf(error.empty() ? stdout : stderr,
               "usage: %s [--host HOST] [--port PORT] [--threads N] [--busy-poll US] "
               "[--tls --cert FILE --key FILE [--cafile FILE]]\n",
               prog);
  if (error.empty()) std::exit(0);
  std::fprintf(stderr, "%s: error: %s\n", prog, error.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  long port = 6379;
  long threads = 1;
  TlsFiles tls;
  aio::RunOptions run_options;
  for (int k = 1; k < argc; ++k) {
    std::string_view arg = argv[k];
    if (arg == "-h" || arg == "--help") usage(argv[0], "");
    if (arg == "--tls") {
      tls.on = true;
      continue;
    }
    std::string value;
    const std::size_t equals = arg.find('=');
    const std::string_view name = arg.substr(0, equals);
    if (name != "--host" && name != "--port" && name != "--cert" && name != "--key" &&
        name != "--cafile" && name != "--busy-poll" && name != "--threads")
      usage(argv[0], "unrecognized argument " + std::string(arg));
    if (equals != std::string_view::npos) {
      value = arg.substr(equals + 1);
    } else if (k + 1 < argc) {
      value = argv[++k];
    } else {
      usage(argv[0], "argument " + std::string(name) + ": expected one argument");
    }
    if (name == "--host") {
      host = value;
    } else if (name == "--cert") {
      tls.cert = value;
    } else if (name == "--key") {
      tls.key = value;
    } else if (name == "--cafile") {
      tls.cafile = value;
    } else if (name == "--busy-poll") {
      char* end = nullptr;
      const double us = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(us >= 0)) {
        usage(argv[0], "argument --busy-poll: invalid microseconds '" + value + "'");
      }
      run_options.busy_poll = std::chrono::duration<double, std::micro>(us);
    } else if (name == "--threads") {
      char* end = nullptr;
      threads = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || threads < 1 || threads > 1024) {
        usage(argv[0], "argument --threads: invalid number of threads '" + value + "'");
      }
    } else {
      char* end = nullptr;
      port = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || port < 0 || port > 65535) {
        usage(argv[0], "argument --port: invalid port '" + value + "'");
      }
    }
  }
  if (tls.on && (tls.cert.empty() || tls.key.empty()))
    usage(argv[0], "--tls needs --cert and --key");
  if (!tls.on && (!tls.cert.empty() || !tls.key.empty() || !tls.cafile.empty())) {
    usage(argv[0], "--cert, --key and --cafile go with --tls");
  }
  // glibc's malloc raises its mmap threshold each time a large block mmap gave is freed (up to
  // 32 MiB), so the next large values come from the heap, where freed memory mostly stays
  // mapped. A fixed threshold keeps every block over 128 KiB (a large value, a burst's buffer)
  // in mappings of its own that go back to the system when freed: after 200 connections have
  // each sent 1 MiB, the idle server holds about 45 MB instead of 150-170 MB.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  if (threads > 1) {
    return run_sharded(host, static_cast<std::uint16_t>(port), static_cast<int>(threads), tls,
                       run_options);
  }
  try {
    aio::run(main_(host, static_cast<std::uint16_t>(port), tls), run_options);
  } catch (const aio::KeyboardInterrupt&) {
  } catch (const aio::CancelledError&) {  // SIGTERM
  } catch (const std::exception& error) {
    std::fprintf(stderr, "mini_redis: %s\n", error.what());
    return 1;
  }
}
