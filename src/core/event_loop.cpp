// The event loop: construction, the run cycle, stop/close, and the thread-safe entry points.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "aio/loop.hpp"
#include "core/fd_watchers.hpp"
#include "core/loop_internals.hpp"
#include "core/loop_registry.hpp"
#include "core/loop_services.hpp"
#include "core/stall_watch.hpp"
#include "core/virtual_clock.hpp"
#include "io/backend.hpp"
#include "posix/environment.hpp"

namespace aio {

namespace {

// RunOptions::busy_poll, or AIO_BUSY_POLL_US when set; none under virtual time, whose clock
// does not move while the loop polls.
std::chrono::nanoseconds busy_poll_from(Duration option) {
  const double seconds = detail::environment::busy_poll_seconds().value_or(option.seconds());
  if (!(seconds > 0)) return std::chrono::nanoseconds(0);
  constexpr double longest = 1e6;  // seconds: longer would overflow nanoseconds; it means "always"
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(seconds, longest) * 1e9));
}

// RunOptions::coalesce (or AIO_COALESCE_US) in whole microseconds, the kernel's unit; 0 when off.
std::chrono::microseconds coalesce_window_from(Duration option) {
  const double seconds = detail::environment::coalesce_seconds().value_or(option.seconds());
  if (!(seconds > 0)) return std::chrono::microseconds(0);
  constexpr double longest = 4000;  // seconds: the kernel takes 32 bits of microseconds
  return std::chrono::microseconds(
      static_cast<std::int64_t>(std::ceil(std::min(seconds, longest) * 1e6)));
}

// Stops the loop when the future run_until_complete() waits for is done.
struct StopWhenDone final : detail::CallbackNode {
  explicit StopWhenDone(EventLoop& l) : loop(&l) {}
  void run() override {
    if (armed) loop->stop();
    delete this;
  }
  void discard() noexcept override { delete this; }
  EventLoop* loop;
  bool armed = true;
};

}  // namespace

EventLoop::EventLoop(RunOptions options)
    : virtual_time_(options.virtual_time || detail::environment::virtual_time()),
      debug_(options.debug || detail::environment::debug()),
      services_(std::make_unique<detail::LoopServices>()) {
  if (!virtual_time_) busy_poll_ns_ = busy_poll_from(options.busy_poll).count();
  // Read before the backend is made, so that a bad setting leaves nothing to undo.
  const std::chrono::microseconds coalesce_window = coalesce_window_from(options.coalesce);
  const unsigned coalesce_events =
      detail::environment::coalesce_events().value_or(options.coalesce_events);
  std::string note;
  backend_ = detail::make_backend(options.backend, &note);
  backend_->count_into(counters_);
  // asyncio's debug mode says which selector it uses; this says which backend, and why not
  // io_uring when `automatic` had to fall back.
  if (debug_) {
    std::fprintf(stderr, "aio: Using backend: %s%s%s\n", backend_->name(), note.empty() ? "" : ": ",
                 note.c_str());
  }
  // Coalescing waits for a batch: it would hold up a virtual clock, which jumps when idle.
  if (coalesce_window.count() > 0 && coalesce_events > 1) {
    const char* why_not = virtual_time_ ? "the clock is virtual"
                                        : backend_->coalesce(coalesce_window, coalesce_events);
    if (debug_ && why_not) {
      std::fprintf(stderr, "aio: Completion coalescing is off: %s\n", why_not);
    } else if (debug_) {
      std::fprintf(stderr, "aio: Coalescing completions: %u, or %lld us with one\n",
                   coalesce_events, static_cast<long long>(coalesce_window.count()));
    }
  }
  counters_.born_ns = detail::monotonic_ns();
  timed_steps_ = debug_;
  start_stall_watch(options);
  detail::register_loop(this);
}

const char* EventLoop::backend_name() const noexcept {
  return backend_->name();
}

EventLoop::~EventLoop() {
  if (running_) {
    std::fputs("aio: an EventLoop was destroyed while running\n", stderr);
    std::abort();
  }
  close();
  // A post from another thread that is still on its way out finishes first.
  services_->posts.wait_for_posters();
  // Executor threads may still report to this loop: they are done before it goes.
  if (services_->default_executor) services_->default_executor->shutdown(true);
  if (services_->executor_joiner.joinable()) services_->executor_joiner.join();
  detail::unregister_loop(this);
}

double EventLoop::time() const noexcept {
  return virtual_time_ ? virtual_now_ : detail::monotonic_seconds();
}

void EventLoop::check_open() const {
  if (closed_) throw RuntimeError("Event loop is closed");
}

void EventLoop::check_thread() const {
  if (debug_ && running_ && detail::this_thread.running_loop != this) {
    throw RuntimeError(
        "Non-thread-safe operation invoked on an event loop other than the current one");
  }
}

// Runs one Runnable; what it throws goes to the exception handler, but KeyboardInterrupt, which
// leaves the loop.
inline void EventLoop::run_one(detail::Runnable* r) {
  ++counters_.runs;
  try {
    r->run();
  } catch (const KeyboardInterrupt&) {
    throw;
  } catch (...) {
    call_exception_handler({"Exception in callback", std::current_exception(), std::nullopt});
  }
}

// A step under the stall detector: published to the watchdog, two stores and a load.
inline void EventLoop::run_watched(detail::Runnable* r) {
  stall_watch_->begin_step();
  try {
    run_one(r);
  } catch (...) {
    stall_watch_->end_step();
    throw;
  }
  stall_watch_->end_step();
}

void EventLoop::run_forever() {
  check_open();
  if (running_) throw RuntimeError("This event loop is already running");
  if (detail::this_thread.running_loop) {
    throw RuntimeError("Cannot run the event loop while another loop is running");
  }
  struct Running {
    EventLoop& loop;
    explicit Running(EventLoop& l) : loop(l) {
      loop.running_ = true;
      detail::this_thread.running_loop = &loop;
      if (loop.stall_watch_) loop.stall_watch_->on_loop_thread();
      detail::debug_loop_running(&loop, true);
    }
    ~Running() {
      detail::debug_loop_running(&loop, false);
      loop.stopping_.store(false, std::memory_order_relaxed);
      loop.running_ = false;
      detail::this_thread.running_loop = nullptr;
      detail::this_thread.current_task = nullptr;
    }
  } running(*this);
  for (;;) {
    run_once();
    if (stopping_.load(std::memory_order_relaxed)) break;
  }
}

// One iteration: poll I/O (blocking only when nothing is ready), take in what other threads
// scheduled, move the timers that came due, then run exactly what is ready now.
void EventLoop::run_once() {
  poll_io();
  drain_threadsafe_queue();
  dispatch_signals();
  if (virtual_time_ && ready_.empty() && !timers_.empty() && timers_.top_when() > virtual_now_) {
    detail::note_virtual_skip(timers_.top_when() - virtual_now_);
    virtual_now_ = timers_.top_when();
  }
  move_due_timers();
  ++counters_.iterations;
  std::size_t n = ready_.size();
  if (n > counters_.ready_max) counters_.ready_max = n;
  for (; n > 0; --n) {
    detail::Runnable* r = ready_.pop();
    if (timed_steps_) [[unlikely]] {
      if (debug_) {
        run_timed(r);
      } else {
        run_watched(r);
      }
    } else {
      run_one(r);
    }
    if (interrupt_) [[unlikely]]
      std::rethrow_exception(std::exchange(interrupt_, nullptr));
  }
}

// Waits for I/O: without blocking when something is ready, else (after busy polling, if asked
// for) until the next timer or I/O.
void EventLoop::poll_io() {
  double timeout = poll_timeout();
  // Busy polling pays for I/O, and for the posts of other threads (a loop that calls other
  // loops, or waits on a Channel, has foreign callers); a loop with neither sleeps at once.
  if (timeout != 0 && busy_poll_ns_ > 0 &&
      (backend_->has_io() || services_->foreign_callers.load(std::memory_order_relaxed))) {
    if (busy_poll_found_work()) return;
    timeout = poll_timeout();  // the clock moved while it polled
  }
  if (timeout < 0 && !backend_->has_io()) [[unlikely]] {
    // Nothing the loop itself waits for could wake it: only another thread can.
    if (nothing_can_wake()) {
      if (virtual_time_ && awaited_main_) {
        throw_deadlock();
        return;  // another thread called in after all
      }
      if (debug_ && !virtual_time_ && warn_if_still_asleep()) return;
    }
  }
  if (timeout == 0) {
    if (backend_->has_io()) backend_->poll(0, ready_);
    return;
  }
  // About to sleep: say so, then look again at what other threads posted (wake_if_sleeping()).
  sleeping_.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (posts_pending()) timeout = 0;
  const std::uint64_t before = detail::monotonic_ns();
  backend_->poll(timeout, ready_);
  counters_.idle_ns += detail::monotonic_ns() - before;
  sleeping_.store(false, std::memory_order_relaxed);
}

// Polls without blocking until something is ready (I/O, a due timer, another thread's call, a
// signal) or busy_poll_ns_ has passed. A thread that sleeps in epoll_wait must be woken by the
// peer's send (a cross-CPU wake-up, costly on a VM); one that is still polling picks the data
// up at once. Every wake-up source is checked here: the poll has already consumed its wake.
bool EventLoop::busy_poll_found_work() {
  // Another thread's post is a load of the queue's head; the backend's poll is a system call
  // (epoll_wait) or a look at the completion ring: it goes every few rounds, not each time.
  const bool io = backend_->has_io();
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(busy_poll_ns_);
  unsigned round = 0;
  do {
    if (io && (round++ & 7) == 0) backend_->poll(0, ready_);
    if (poll_timeout() == 0 || signal_pending()) return true;
    detail::cpu_relax();
  } while (std::chrono::steady_clock::now() < until);
  return false;
}

double EventLoop::poll_timeout() const {
  if (!ready_.empty() || stopping_.load(std::memory_order_relaxed) || posts_pending()) {
    return 0;
  }
  if (timers_.empty()) return -1;
  if (virtual_time_) return 0;
  const double wait = timers_.top_when() - time();
  return wait > 0 ? wait : 0;
}

void EventLoop::move_due_timers() {
  if (timers_.empty()) return;
  const double now = time();
  while (!timers_.empty() && timers_.top_when() <= now) {
    ready_.push(timers_.pop());
    ++counters_.timers_fired;
  }
}

// Debug mode: run `r` and log it when it took longer than slow_callback_duration.
void EventLoop::run_timed(detail::Runnable* r) {
  // Described before it runs: running may free it.
  auto* task = dynamic_cast<detail::FutureBase*>(r);
  const std::string what = task ? "<Task name='" + task->name() + "'>" : "<Handle>";
  const auto start = std::chrono::steady_clock::now();
  struct Report {
    EventLoop& loop;
    const std::string& what;
    std::chrono::steady_clock::time_point start;
    ~Report() {
      const auto elapsed = std::chrono::steady_clock::now() - start;
      const double took = std::chrono::duration<double>(elapsed).count();
      const auto ns = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
      auto slowest = std::atomic_ref<std::uint64_t>(loop.counters_.slowest_step_ns);
      if (ns > slowest.load(std::memory_order_relaxed)) {
        slowest.store(ns, std::memory_order_relaxed);
        loop.slowest_step_ = what;
      }
      if (took >= loop.slow_callback_duration) {
        std::fprintf(stderr, "aio: Executing %s took %.3f seconds\n", what.c_str(), took);
      }
    }
  } report{*this, what, start};
  if (stall_watch_) {
    run_watched(r);
  } else {
    run_one(r);
  }
}

void EventLoop::stop() noexcept {
  stopping_.store(true, std::memory_order_relaxed);
  // From another thread the loop may be blocked in poll(): wake it. (The running-loop
  // thread-local tells which thread we are on without reading the loop's state.)
  if (detail::this_thread.running_loop != this) backend_->wake();
}

void EventLoop::schedule_threadsafe(detail::HandleState* h) {
  if (!post(h, detail::PostKind::reply)) {
    h->release();
    throw RuntimeError("Event loop is closed");
  }
}

bool EventLoop::post(detail::Runnable* r, detail::PostKind kind) {
  detail::PostQueue& posts = services_->posts;
  if (detail::this_thread.running_loop == this) {
    if (kind == detail::PostKind::new_work && posts.refusing_new_work()) [[unlikely]]
      return false;
    ready_.push(r);
    return true;
  }
  if (!posts.enter(kind == detail::PostKind::new_work)) return false;
  // A loop other threads post to busy-polls for their posts (RunOptions::busy_poll) and is
  // not deadlocked while it waits for them. Written once: a line read, not bounced, after.
  if (!detail::this_thread.delivering_result) detail::LoopAccess::expect_foreign_calls(*this);
  posts.push(r);
  wake_if_sleeping();
  posts.leave();  // from here on the loop may be closed and destroyed
  return true;
}

bool detail::LoopAccess::closed_to_posts(const EventLoop& loop) noexcept {
  return loop.services_->posts.closed();
}

void detail::LoopAccess::expect_foreign_calls(EventLoop& loop) noexcept {
  std::atomic<bool>& flag = loop.services_->foreign_callers;
  if (!flag.load(std::memory_order_relaxed)) flag.store(true, std::memory_order_relaxed);
}

void detail::LoopInternals::refuse_new_work(EventLoop& loop) {
  loop.services_->posts.refuse_new_work();
}

// The other half of poll_io()'s handshake: the loop says it sleeps, then looks at the queue;
// a poster fills the queue, then looks whether the loop sleeps. With a full fence on both
// sides one of them sees the other, so a loop that is awake (or spinning) is never woken, and
// a sleeping one is woken once for a whole batch of posts. (`sleeping_` has a cache line of its
// own that only the loop writes, and only when it goes to sleep: reading it costs a poster
// nothing while the loop is busy.)
void EventLoop::wake_if_sleeping() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping_.load(std::memory_order_relaxed) &&
      sleeping_.exchange(false, std::memory_order_relaxed)) {
    std::atomic_ref<std::uint64_t>(counters_.wakeups).fetch_add(1, std::memory_order_relaxed);
    backend_->wake();
  }
}

bool EventLoop::posts_pending() const noexcept {
  return services_->posts.ready();
}

void EventLoop::drain_threadsafe_queue() {
  if (services_->posts.ready()) services_->posts.drain(ready_);
}

void EventLoop::run_until_done(detail::FutureBase& future) {
  check_open();
  if (running_) throw RuntimeError("This event loop is already running");
  auto* stopper = new StopWhenDone(*this);
  future.add_callback(stopper);
  struct Awaited {  // what the deadlock report waits for
    EventLoop& loop;
    detail::FutureBase* previous;
    ~Awaited() { loop.awaited_main_ = previous; }
  } awaited{*this, std::exchange(awaited_main_, &future)};
  try {
    run_forever();
  } catch (...) {
    // The stopper is in the future's list (delete it) or queued (it must not stop a later run).
    if (future.remove_callback(stopper)) {
      delete stopper;
    } else {
      stopper->armed = false;
    }
    throw;
  }
  if (!future.done()) {
    if (future.remove_callback(stopper)) delete stopper;
    throw RuntimeError("Event loop stopped before Future completed.");
  }
}

void EventLoop::discard_scheduled() noexcept {
  while (!ready_.empty()) ready_.pop()->discard();
  for (detail::TimerNode* node : timers_.release_all()) node->discard();
  struct Collect {
    std::vector<detail::Runnable*>& into;
    void push(detail::Runnable* r) { into.push_back(r); }
  };
  std::vector<detail::Runnable*> batch;
  Collect collect{batch};
  services_->posts.drain(collect);
  for (detail::Runnable* r : batch) r->discard();
}

void EventLoop::close() {
  if (running_) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  closed_ = true;
  services_->posts.close();  // no post lands after this
  discard_scheduled();
  remove_all_signal_handlers();
  if (services_->default_executor)
    services_->default_executor->shutdown(false);  // no new work (asyncio's close())
  // Tasks still pending are abandoned: whoever waits on them is dropped, and the loop's own
  // reference goes (a task nobody else holds is destroyed here, running its destructors).
  while (tasks_) {
    detail::FutureBase* task = tasks_;
    detail::LoopInternals::unlink_task(*this, task);
    task->discard_callbacks();
    task->release();
  }
  // Open transports and servers close their descriptors (no callback runs any more).
  while (resources_) {
    detail::LoopResource* r = resources_;
    detail::LoopInternals::remove_resource(*this, r);
    r->loop_closing();
  }
  watchers_.reset();
  // Destroying those frames may have queued nothing (the loop is closed), but be thorough.
  discard_scheduled();
  for (detail::GeneratorBase* g : services_->generators) g->loop = nullptr;  // forget them
  services_->generators.clear();
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
  if (!handler_) {
    default_exception_handler(context);
    return;
  }
  try {
    handler_(*this, context);
  } catch (...) {
    default_exception_handler(
        {"Unhandled error in exception handler", std::current_exception(), std::nullopt});
    default_exception_handler(context);
  }
}

void EventLoop::default_exception_handler(const ExceptionContext& context) noexcept {
  detail::log_to_stderr(context);
}

void detail::log_to_stderr(const ExceptionContext& context) noexcept {
  std::string text =
      context.message.empty() ? "Unhandled exception in event loop" : context.message;
  if (context.task) text += "\ntask: <Task name='" + context.task->get_name() + "'>";
  if (context.exception) text += "\nexception: " + describe_exception(context.exception);
  std::fprintf(stderr, "%s\n", text.c_str());
}

void detail::schedule_on(EventLoop& loop, Runnable* r) {
  if (loop.is_closed()) {
    r->discard();
    throw RuntimeError("Event loop is closed");
  }
  LoopAccess::schedule(loop, r);
}

}  // namespace aio
