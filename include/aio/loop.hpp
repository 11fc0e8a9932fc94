// aio/loop.hpp — asyncio's event loop: EventLoop, get_running_loop(), get_event_loop().
//
// One loop per thread. Each iteration runs exactly the callbacks that were ready when it began,
// in FIFO order (what they schedule runs in the next one), after polling I/O with a timeout up
// to the next timer and moving the timers that came due to the ready queue in deadline order
// (equal deadlines FIFO). With virtual time the clock starts at 0 and, whenever nothing is
// ready, jumps straight to the next deadline. Only stop() and call_soon_threadsafe() may be
// called from other threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/loop_counters.hpp"
#include "aio/detail/protocol_factory.hpp"
#include "aio/detail/runnable.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/duration.hpp"
#include "aio/executor.hpp"
#include "aio/future.hpp"
#include "aio/handle.hpp"
#include "aio/metrics.hpp"
#include "aio/network_options.hpp"
#include "aio/outcome.hpp"
#include "aio/run_options.hpp"
#include "aio/task.hpp"
#include "aio/task_factory.hpp"

namespace aio {

// The networking types the loop's methods take and give: aio/protocols.hpp, aio/socket.hpp.
class BaseTransport;
class DatagramTransport;
class Server;
class Socket;
class Transport;

namespace detail {
class Backend;
struct LoopAccess;
struct LoopInternals;
struct DebugTableAccess;
struct LoopServices;
class StallWatch;
class FdWatchers;

/// What a post to a loop from any thread carries (LoopAccess::post): new work (refused once
/// the loop is shutting down), or a reply to work the loop is waiting for (taken until it
/// closes).
enum class PostKind : std::uint8_t { new_work, reply };

/// Something the loop must shut down when it closes (src/core/loop_resource.hpp).
class LoopResource;

/// What a loop knows of a live async generator: enough to close it at shutdown.
class GeneratorBase {
 public:
  /// aclose(), type-erased.
  virtual Coro<void> close() = 0;
  EventLoop* loop = nullptr;  // the loop whose registry holds it

 protected:
  ~GeneratorBase() = default;
};
}  // namespace detail

/// What the loop's exception handler is given (asyncio's context dict).
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;
  std::optional<TaskRef> task;
};

class EventLoop;
using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

class EventLoop {
 public:
  EventLoop() : EventLoop(RunOptions{}) {}
  explicit EventLoop(RunOptions options);
  ~EventLoop();  // closes the loop
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Runs until `aw` (a Coro, Task, Future or other awaitable) is done; returns its value or
  /// rethrows. RuntimeError if the loop is closed, already running, or stopped first.
  template <class A>
  auto run_until_complete(A&& aw);
  /// Runs until stop() is called.
  void run_forever();
  /// Makes run_forever()/run_until_complete() return after the current iteration. Thread-safe.
  void stop() noexcept;
  /// Drops whatever is still scheduled and releases the loop's resources; RuntimeError while
  /// running. Idempotent.
  void close();
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept { return closed_; }
  /// Seconds on the loop's clock (monotonic, or virtual: starts at 0).
  double time() const noexcept;

  /// Each takes asyncio's context= too: given a Context, `fn` runs in it (not in a copy).
  template <class F>
  Handle call_soon(F fn) {
    return call_soon_in(std::move(fn), nullptr);
  }
  template <class F>
  Handle call_soon(F fn, Context context) {
    return call_soon_in(std::move(fn), &context);
  }
  template <class F>
  TimerHandle call_later(Duration delay, F fn) {
    return call_at_in(later(delay), std::move(fn), nullptr);
  }
  template <class F>
  TimerHandle call_later(Duration delay, F fn, Context context) {
    return call_at_in(later(delay), std::move(fn), &context);
  }
  template <class F>
  TimerHandle call_at(double when, F fn) {
    return call_at_in(when, std::move(fn), nullptr);
  }
  template <class F>
  TimerHandle call_at(double when, F fn, Context context) {
    return call_at_in(when, std::move(fn), &context);
  }
  /// call_soon() from any thread; wakes the loop. Thread-safe.
  template <class F>
  Handle call_soon_threadsafe(F fn) {
    return call_soon_threadsafe_in(std::move(fn), nullptr);
  }
  template <class F>
  Handle call_soon_threadsafe(F fn, Context context) {
    return call_soon_threadsafe_in(std::move(fn), &context);
  }

  template <class T = void>
  Future<T> create_future() {
    check_open();
    return Future<T>(Future<T>::adopt, new detail::FutureState<T>(*this));
  }
  template <class T>
  Task<T> create_task(Coro<T> coro) {
    return make_task(*this, std::move(coro));
  }
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name) {
    return make_task(*this, std::move(coro), std::move(name));
  }
  /// The task runs in `context` itself (asyncio's context= argument), not in a copy.
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name, Context context) {
    return make_task(*this, std::move(coro), std::move(name),
                     detail::ContextAccess::state(context));
  }
  /// loop.create_task(coro, {.name = ..., .context = ..., .eager_start = ...}).
  template <class T>
  Task<T> create_task(Coro<T> coro, TaskOptions options) {
    return make_task(*this, std::move(coro), std::move(options));
  }
  template <class A>
  requires(detail::Awaitable<A> && !detail::IsCoro<A>::value &&
           !std::is_reference_v<A>) auto create_task(A aw, std::string name = {}) {
    return make_task(*this, detail::await_in_coro(std::move(aw)), std::move(name));
  }
  template <class A>
  requires(detail::Awaitable<A> && !detail::IsCoro<A>::value &&
           !std::is_reference_v<A>) auto create_task(A aw, TaskOptions options) {
    return make_task(*this, detail::await_in_coro(std::move(aw)), std::move(options));
  }

  /// asyncio's loop.set_task_factory(): eager_task_factory, or nullptr (TaskFactory::standard)
  /// for the default. get_task_factory() says which is in use.
  void set_task_factory(TaskFactory factory) noexcept {
    eager_tasks_ = factory == TaskFactory::eager;
  }
  void set_task_factory(std::nullptr_t) noexcept { eager_tasks_ = false; }
  TaskFactory get_task_factory() const noexcept {
    return eager_tasks_ ? TaskFactory::eager : TaskFactory::standard;
  }

  /// Runs `callback` (as a loop callback) when signal `sig` arrives; RuntimeError if another
  /// loop handles signals. remove_signal_handler() restores the default; false if none was set.
  void add_signal_handler(int sig, std::function<void()> callback);
  bool remove_signal_handler(int sig);

  void set_exception_handler(ExceptionHandler handler) { handler_ = std::move(handler); }
  const ExceptionHandler& get_exception_handler() const noexcept { return handler_; }
  /// Passes `context` to the handler (or the default one, which logs to stderr).
  void call_exception_handler(const ExceptionContext& context) noexcept;
  void default_exception_handler(const ExceptionContext& context) noexcept;

  bool get_debug() const noexcept { return debug_; }
  /// What the loop has done so far (aio/metrics.hpp): a snapshot, cheap to take.
  LoopMetrics metrics() const;
  void set_debug(bool enabled) noexcept {
    debug_ = enabled;
    timed_steps_ = debug_ || stall_watch_;
  }
  /// Debug mode logs callbacks that run longer than this many seconds.
  double slow_callback_duration = 0.1;

  bool uses_virtual_time() const noexcept { return virtual_time_; }
  /// The I/O backend under this loop: "io_uring" or "epoll" (RunOptions::backend).
  const char* backend_name() const noexcept;

  /// Runs fn() on `executor` (nullptr: the default ThreadPoolExecutor) and returns a Future
  /// of its result, completed on this loop's thread. Cancelling the Future before a worker
  /// has taken the job means it never runs; once running, fn is not stopped.
  template <class F>
  auto run_in_executor(Executor* executor, F fn);
  void set_default_executor(std::shared_ptr<Executor> executor);
  /// Waits (without blocking the loop) for the default executor's work to finish and shuts it
  /// down; run() calls it at the end. Past `timeout` it stops waiting, warns on stderr
  /// ("RuntimeWarning: The executor did not finishing joining its threads within N seconds.")
  /// and returns, the workers left to finish on their own (asyncio 3.12's timeout).
  Coro<void> shutdown_default_executor(std::optional<Duration> timeout = std::nullopt);

  /// Closes (aclose()) every async generator still suspended; errors go to the exception
  /// handler. run() calls it after cancelling the remaining tasks.
  Coro<void> shutdown_asyncgens();

  // ---- Sockets (asyncio's loop.sock_*): the socket must be non-blocking (aio::Socket is; in
  // debug mode a blocking one is std::invalid_argument, asyncio's ValueError) ----
  /// Up to n bytes ("" at EOF).
  Coro<std::string> sock_recv(Socket& sock, std::int64_t n);
  Coro<std::size_t> sock_recv_into(Socket& sock, std::span<char> buffer);
  /// Sends all of `data` (copied first: the caller's buffer may go).
  Coro<void> sock_sendall(Socket& sock, std::string_view data);
  Coro<void> sock_connect(Socket& sock, SocketAddress address);
  Coro<std::pair<Socket, SocketAddress>> sock_accept(Socket& sock);
  Coro<std::pair<std::string, SocketAddress>> sock_recvfrom(Socket& sock, std::int64_t n);
  Coro<std::size_t> sock_sendto(Socket& sock, std::string_view data, SocketAddress to);
  /// asyncio's sock_sendfile: sends the file open as `fd` (a descriptor where asyncio takes a
  /// file object) from `offset`, `count` bytes (nullopt: to its end), over a connected stream
  /// socket; the bytes sent. sendfile(2) for a regular file; otherwise, or if the kernel
  /// refuses, the file is read (on the default executor) and sent, unless `fallback` is false
  /// (SendfileNotAvailableError). The file's position ends after what was sent, also after an
  /// error. A negative offset or a count < 1: std::invalid_argument.
  Coro<std::int64_t> sock_sendfile(Socket& sock, int fd, std::int64_t offset = 0,
                                   std::optional<std::int64_t> count = std::nullopt,
                                   bool fallback = true);
  /// asyncio's loop.sendfile: the same over a transport, once its write buffer has drained:
  /// zero-copy over a TCP or Unix socket transport (reading paused and write() refused until
  /// it returns), read and written through a TLS one (fallback = false: RuntimeError). A
  /// transport that is closing, or that cannot send files (datagrams, pipes): RuntimeError.
  Coro<std::int64_t> sendfile(BaseTransport& transport, int fd, std::int64_t offset = 0,
                              std::optional<std::int64_t> count = std::nullopt,
                              bool fallback = true);
  /// getaddrinfo() on the default executor (numeric hosts are parsed at once); the port as a
  /// number or as asyncio's string ("6379", "http").
  Coro<std::vector<AddressInfo>> getaddrinfo(std::string host, std::uint16_t port,
                                             AddressFamily family = AddressFamily::unspecified,
                                             SocketType type = SocketType::stream,
                                             bool passive = false);
  Coro<std::vector<AddressInfo>> getaddrinfo(std::string host, std::string port,
                                             AddressFamily family = AddressFamily::unspecified,
                                             SocketType type = SocketType::stream,
                                             bool passive = false);

  /// Calls fn (as a loop callback) whenever fd is readable, until remove_reader(fd); a second
  /// add_reader for the same fd replaces the callback. remove_*: false if none was set. All four
  /// refuse a socket that an open transport owns (RuntimeError, as asyncio).
  void add_reader(int fd, std::function<void()> fn);
  bool remove_reader(int fd);
  void add_writer(int fd, std::function<void()> fn);
  bool remove_writer(int fd);

  // ---- Transports and protocols (aio/protocols.hpp) ----
  // The factories below return (transport, protocol) with the protocol as the factory made
  // it: a factory returning std::shared_ptr<MyProtocol> gives a std::shared_ptr<MyProtocol>,
  // the very object (asyncio returns it too); a ProtocolFactory gives a BaseProtocol.

  /// asyncio's create_connection: resolves host:port (the port a number, or a string: digits
  /// or a service name) and connects to each address in turn, or races them (happy eyeballs:
  /// ConnectOptions::happy_eyeballs_delay). Returns once connection_made has run (with
  /// ConnectOptions::ssl, after the handshake).
  template <detail::FactoryOf<BaseProtocol> F>
  Coro<detail::FactoryPair<Transport, F>> create_connection(F factory, std::string host,
                                                            std::uint16_t port,
                                                            ConnectOptions options = {});
  template <detail::FactoryOf<BaseProtocol> F>
  Coro<detail::FactoryPair<Transport, F>> create_connection(F factory, std::string host,
                                                            std::string port,
                                                            ConnectOptions options = {});
  Coro<Server> create_server(ProtocolFactory factory, std::string host, std::uint16_t port,
                             ServerOptions options = {});
  template <detail::FactoryOf<BaseProtocol> F>
  Coro<detail::FactoryPair<Transport, F>> create_unix_connection(F factory, std::string path,
                                                                 ConnectOptions options = {});
  Coro<Server> create_unix_server(ProtocolFactory factory, std::string path,
                                  ServerOptions options = {});
  template <detail::FactoryOf<DatagramProtocol> F>
  Coro<detail::FactoryPair<DatagramTransport, F>> create_datagram_endpoint(
      F factory, DatagramOptions options = {});
  /// asyncio's connect_read_pipe / connect_write_pipe: `protocol` over one end of a pipe (also a
  /// socket or a terminal; anything else is std::invalid_argument). The transport takes `fd`
  /// and closes it when it closes. Returns once connection_made has run.
  template <detail::FactoryOf<BaseProtocol> F>
  Coro<detail::FactoryPair<Transport, F>> connect_read_pipe(F factory, int fd);
  template <detail::FactoryOf<BaseProtocol> F>
  Coro<detail::FactoryPair<Transport, F>> connect_write_pipe(F factory, int fd);
  /// asyncio's connect_accepted_socket: the server's side of a connection accepted elsewhere
  /// (a stream socket; std::invalid_argument otherwise), over TLS with `options.ssl` (a server
  /// context). The transport owns the socket. Returns once connection_made has run (with TLS,
  /// after the handshake, whose failure is thrown and closes the socket).
  template <detail::FactoryOf<BaseProtocol> F>
  Coro<detail::FactoryPair<Transport, F>> connect_accepted_socket(
      F factory, Socket sock, AcceptedSocketOptions options = {});
  /// Upgrades a connection to TLS (asyncio's loop.start_tls): `protocol` (the transport's,
  /// already connected) is then served by the returned transport, once the handshake is done;
  /// `transport` must not be used any more. The handshake's error (SSLError,
  /// SSLCertVerificationError, TimeoutError, ConnectionResetError) is thrown and the
  /// connection closed. Timeouts: nullopt means 60 s and 30 s. aio/ssl.hpp has SSLContext.
  Coro<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                             std::shared_ptr<BaseProtocol> protocol,
                                             std::shared_ptr<SSLContext> sslcontext,
                                             bool server_side = false,
                                             std::optional<std::string> server_hostname = {},
                                             std::optional<Duration> ssl_handshake_timeout = {},
                                             std::optional<Duration> ssl_shutdown_timeout = {});

 private:
  friend struct detail::LoopAccess;
  friend struct detail::LoopInternals;
  friend struct detail::DebugTableAccess;  // src/debug/debug_table.cpp
  using AnyConnection = std::pair<std::shared_ptr<Transport>, std::shared_ptr<BaseProtocol>>;

  // The factories above, type-erased (the templates keep the protocol's type).
  Coro<AnyConnection> open_connection_to(ProtocolFactory factory, std::string host,
                                         std::string port, ConnectOptions options);
  Coro<AnyConnection> open_unix_connection_to(ProtocolFactory factory, std::string path,
                                              ConnectOptions options);
  Coro<AnyConnection> open_pipe(ProtocolFactory factory, int fd, bool read);
  Coro<AnyConnection> open_accepted_socket(ProtocolFactory factory, Socket sock,
                                           AcceptedSocketOptions options);
  Coro<std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<DatagramProtocol>>>
  open_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options);

  void run_until_done(detail::FutureBase& future);
  void run_once();
  void run_one(detail::Runnable* r);
  void run_timed(detail::Runnable* r);
  void run_watched(detail::Runnable* r);
  // src/core/loop_diagnostics.cpp: the stall detector, the deadlock report.
  void start_stall_watch(const RunOptions& options);
  bool nothing_can_wake() const;
  void throw_deadlock();  // unless another thread calls in at the last moment
  bool warn_if_still_asleep();
  void move_due_timers();
  void drain_threadsafe_queue();
  bool posts_pending() const noexcept;
  double poll_timeout() const;
  void poll_io();
  bool busy_poll_found_work();
  void check_open() const;
  void check_thread() const;
  // call_soon & co., in `context` if not null.
  template <class F>
  Handle call_soon_in(F fn, const Context* context);
  template <class F>
  TimerHandle call_at_in(double when, F fn, const Context* context);
  template <class F>
  Handle call_soon_threadsafe_in(F fn, const Context* context);
  /// The deadline of call_later(delay): a negative delay is 0.
  double later(Duration delay) const noexcept {
    return time() + (delay.seconds() > 0 ? delay.seconds() : 0.0);
  }
  void schedule_handle(detail::HandleState* h);
  void schedule_threadsafe(detail::HandleState* h);
  // From any thread: queues `r` (a reply, or new work); false if the loop is closed (or, for
  // new work, shutting down). Wakes the loop only if it sleeps.
  bool post(detail::Runnable* r, detail::PostKind kind);
  void wake_if_sleeping() noexcept;
  void discard_scheduled() noexcept;

  detail::ReadyQueue ready_;
  detail::TimerHeap timers_;
  std::unique_ptr<detail::Backend> backend_;
  detail::FutureBase* tasks_ = nullptr;  // unfinished tasks, newest first
  detail::LoopCounters counters_;        // metrics()
  ExceptionHandler handler_;
  std::exception_ptr interrupt_;  // a KeyboardInterrupt on its way out of the loop
  double virtual_now_ = 0;
  std::int64_t busy_poll_ns_ = 0;  // RunOptions::busy_poll
  bool virtual_time_ = false;
  bool debug_ = false;
  bool timed_steps_ = false;  // debug_ or the stall detector: each step goes through run_timed
  bool running_ = false;
  bool closed_ = false;
  bool eager_tasks_ = false;  // set_task_factory(eager_task_factory)
  std::atomic<bool> stopping_{false};
  // In a blocking poll: a post must wake it. Other threads read it at every post: a cache line
  // of its own, written only when the loop goes to sleep and wakes.
  alignas(64) std::atomic<bool> sleeping_{false};
  char pad_after_sleeping_[63] = {};
  std::unique_ptr<detail::LoopServices> services_;   // src/core/loop_services.hpp
  std::unique_ptr<detail::StallWatch> stall_watch_;  // RunOptions::stall_threshold
  detail::FutureBase* awaited_main_ = nullptr;       // run_until_complete()'s future
  bool warned_asleep_ = false;                       // debug mode's "nothing can wake" warning
  std::string slowest_step_;                         // metrics(): what it was (debug mode)

  std::unique_ptr<detail::FdWatchers> watchers_;
  detail::LoopResource* resources_ = nullptr;

  Executor& default_executor();
  void dispatch_signals();
  bool signal_pending() const noexcept;
  void remove_all_signal_handlers() noexcept;
};

/// The loop running in this thread; RuntimeError("no running event loop") when none.
EventLoop& get_running_loop();
/// The running loop; outside one, the thread's current loop (set_event_loop()). RuntimeError
/// when there is none: since asyncio 3.14 no loop is made implicitly (new_event_loop() and
/// set_event_loop() do that, or run()).
EventLoop& get_event_loop();
/// Makes `loop` the thread's current loop (nullptr: none). Never destroys a caller's loop.
void set_event_loop(EventLoop* loop);
std::unique_ptr<EventLoop> new_event_loop(RunOptions options = {});

namespace detail {

/// What the public templates need of the loop (sleep(): its timer and its wake-up); the rest
/// of the loop's internals are src/core/loop_internals.hpp's.
struct LoopAccess {
  static void schedule(EventLoop& loop, Runnable* r) { loop.ready_.push(r); }
  static void add_timer(EventLoop& loop, TimerNode* node, double when) {
    ++loop.counters_.timers_armed;
    loop.timers_.push(node, when);
  }
  static void remove_timer(EventLoop& loop, TimerNode* node) { loop.timers_.remove(node); }
  static LoopCounters& counters(EventLoop& loop) noexcept { return loop.counters_; }
  /// Thread-safe: queues `r` on `loop` (directly when this thread runs it).
  static bool post(EventLoop& loop, Runnable* r, PostKind kind) { return loop.post(r, kind); }
  static bool is_running_here(const EventLoop& loop) noexcept {
    return this_thread.running_loop == &loop;
  }
  static EventLoop& running() noexcept { return *this_thread.running_loop; }
  /// Thread-safe: the loop is closed, or closing (posts fail).
  static bool closed_to_posts(const EventLoop& loop) noexcept;
  /// Another thread will call in (a call to another loop is out): the loop waiting with
  /// nothing else to do is not deadlocked.
  static void expect_foreign_calls(EventLoop& loop) noexcept;
};

}  // namespace detail

}  // namespace aio

#include "aio/detail/loop_templates.hpp"  // the member templates' definitions
