// Test support: peers on other threads for a loop that is waiting (a blocking client, another
// thread's call_soon_threadsafe, a signal), and coroutines that give the loop I/O to wait on.
// For the options that change how the loop waits (busy polling, completion coalescing).
#pragma once

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include <aio/aio.hpp>

namespace aio::testing {

/// CPU time the calling thread has used, in seconds.
inline double thread_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

/// A plain blocking client: connects, waits, sends a line, reads the echo.
inline std::string blocking_client(std::uint16_t port, std::chrono::milliseconds before_sending) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::this_thread::sleep_for(before_sending);
    if (::write(fd, "ping\n", 5) == 5) {
      char buf[16];
      ssize_t n = 0;
      while (reply.size() < 5 && (n = ::read(fd, buf, sizeof buf)) > 0) {
        reply.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  return reply;
}

inline Coro<void> echo_line(StreamReader reader, StreamWriter writer) {
  std::string line = co_await reader.readline();
  writer.write(line);
  co_await writer.drain();
  writer.close();
}

/// Serves one echo while a client thread sends after `delay`; gives back what the client read.
inline Coro<std::string> echo_once(std::chrono::milliseconds delay) {
  const ClientConnected handler = echo_line;
  Server server = co_await start_server(handler, "127.0.0.1", 0);
  // The client's thread blocks; it tells the loop when it is done (no timer that would keep
  // the loop awake).
  EventLoop& loop = get_running_loop();
  Future<std::string> reply = loop.create_future<std::string>();
  std::thread client([&loop, &reply, port = server.port(), delay] {
    std::string got = blocking_client(port, delay);
    loop.call_soon_threadsafe([&reply, got] { reply.set_result(got); });
  });
  std::string got = co_await reply;
  client.join();
  server.close();
  co_await server.wait_closed();
  co_return got;
}

/// Sleeps `delay` seconds with a listener open (I/O to wait for); gives back the time slept.
inline Coro<double> sleep_with_a_listener(double delay) {
  EventLoop& loop = get_running_loop();
  const ClientConnected handler = echo_line;
  Server server = co_await start_server(handler, "127.0.0.1", 0);
  const double start = loop.time();
  co_await sleep(delay);
  const double slept = loop.time() - start;
  server.close();
  co_await server.wait_closed();
  co_return slept;
}

/// Waits, with a listener open, until what `arrange` set up completes `done`.
inline Coro<void> wait_with_a_listener(std::function<void(Future<void>& done)> arrange) {
  const ClientConnected handler = echo_line;
  Server server = co_await start_server(handler, "127.0.0.1", 0);
  Future<void> done = get_running_loop().create_future<void>();
  arrange(done);
  co_await done;
  server.close();
  co_await server.wait_closed();
}

}  // namespace aio::testing
