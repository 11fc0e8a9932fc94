// What the loop says about itself: metrics(), the stall detector's hooks, the deadlock report
// (virtual time: nothing can ever wake the loop and the main task waits), debug mode's warning
// when a real-time loop sleeps with nothing that could wake it, and the task dump on a signal.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "aio/detail/future_base.hpp"
#include "aio/graph.hpp"
#include "aio/loop.hpp"
#include "core/loop_internals.hpp"
#include "core/loop_services.hpp"
#include "core/stall_watch.hpp"
#include "core/virtual_clock.hpp"
#include "io/backend.hpp"
#include "posix/environment.hpp"

namespace aio {

namespace {

// How many threads the process has (/proc/self/stat's num_threads); 0 when unknown.
int process_threads() {
  std::FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return 0;
  char text[1024];
  const std::size_t n = std::fread(text, 1, sizeof text - 1, f);
  std::fclose(f);
  text[n] = '\0';
  // After the command's closing parenthesis: state, then 16 more fields, then num_threads.
  const char* p = std::strrchr(text, ')');
  if (!p) return 0;
  int field = 2;
  for (++p; *p && field < 20; ++p) {
    if (*p == ' ') ++field;
  }
  return std::atoi(p);
}

// Every pending task's graph (what it waits on, its call stack, who awaits it), as aio's
// reports print them.
std::string pending_task_graphs(EventLoop& loop, std::size_t& count) {
  std::string out;
  count = 0;
  for (detail::FutureBase* t = detail::LoopInternals::tasks(loop); t; t = t->next_task()) {
    ++count;
    out += detail::render_call_graph(capture_call_graph(TaskRef(t)), true);
    out += '\n';
  }
  return out;
}

}  // namespace

LoopMetrics EventLoop::metrics() const {
  const detail::LoopCounters& c = counters_;
  LoopMetrics m;
  m.iterations = c.iterations;
  m.tasks_created = c.tasks_created;
  for (const detail::FutureBase* t = tasks_; t; t = t->next_task()) ++m.tasks_alive;
  m.steps = c.steps;
  m.callbacks = c.runs - c.steps;
  m.ready_now = ready_.size();
  m.ready_max = c.ready_max;
  m.timers_armed = c.timers_armed;
  m.timers_fired = c.timers_fired;
  m.timers_pending = timers_.size();
  for (int k = 0; k < io_operation_kinds; ++k) {
    m.io_started[k] = c.io_started[k];
    m.io_completed[k] = c.io_completed[k];
  }
  const std::uint64_t alive_ns = detail::monotonic_ns() - c.born_ns;
  m.idle_seconds = static_cast<double>(c.idle_ns) * 1e-9;
  m.busy_seconds = static_cast<double>(alive_ns - std::min(alive_ns, c.idle_ns)) * 1e-9;
  m.slowest_step_seconds =
      static_cast<double>(
          std::atomic_ref<const std::uint64_t>(c.slowest_step_ns).load(std::memory_order_relaxed)) *
      1e-9;
  m.slowest_step = slowest_step_;
  m.stalls = std::atomic_ref<const std::uint64_t>(c.stalls).load(std::memory_order_relaxed);
  m.wakeups = std::atomic_ref<const std::uint64_t>(c.wakeups).load(std::memory_order_relaxed);
  return m;
}

void EventLoop::start_stall_watch(const RunOptions& options) {
  const double threshold =
      detail::environment::stall_seconds().value_or(options.stall_threshold.seconds());
  if (!(threshold > 0) || virtual_time_) return;  // a virtual clock cannot time a step
  stall_watch_ = std::make_unique<detail::StallWatch>(*this, threshold, options.stall_handler);
  timed_steps_ = true;
}

// Only another thread could wake the loop now: no executor job is out, nobody else has called
// in, no signal handler waits. (The caller has seen no ready callback, no timer, no I/O.)
bool EventLoop::nothing_can_wake() const {
  if (counters_.executor_jobs != 0) return false;
  if (services_->foreign_callers.load(std::memory_order_relaxed)) return false;
  return services_->signal_handlers.empty();
}

void EventLoop::throw_deadlock() {
  // Another thread of the process may hold the loop and call in without having done so yet:
  // give it a moment of real time first (a virtual clock does not move meanwhile).
  if (process_threads() != 1) {
    constexpr double grace = 0.25;
    backend_->poll(grace, ready_);
    if (!ready_.empty() || posts_pending() || stopping_.load(std::memory_order_relaxed)) {
      return;
    }
  }
  std::size_t count = 0;
  const std::string graphs = pending_task_graphs(*this, count);
  throw RuntimeError(
      "deadlock: the loop waits for the main task, and nothing can wake it (no callback is "
      "ready, no timer is pending, no I/O is registered, no other thread can call in); " +
      std::to_string(count) + " pending task" + (count == 1 ? "" : "s") + ":\n" + graphs);
}

// Debug mode, real time: sleeps 10 s (AIO_ASLEEP_WARNING_MS) at most; if nothing came, says
// once what waits, then lets the loop sleep on. True when something woke it (the poll is done).
bool EventLoop::warn_if_still_asleep() {
  if (warned_asleep_ || !tasks_) return false;
  const double patience = detail::environment::asleep_warning_seconds().value_or(10);
  const std::uint64_t before = detail::monotonic_ns();
  backend_->poll(patience, ready_);
  counters_.idle_ns += detail::monotonic_ns() - before;
  if (!ready_.empty() || posts_pending() || stopping_.load(std::memory_order_relaxed)) {
    return true;
  }
  warned_asleep_ = true;
  std::size_t count = 0;
  const std::string graphs = pending_task_graphs(*this, count);
  std::fprintf(stderr,
               "aio: the loop has slept for %g s with %zu pending task%s and nothing that could "
               "wake it (no timer, no I/O, no other thread):\n%s",
               patience, count, count == 1 ? "" : "s", graphs.c_str());
  return false;
}

std::string format_all_tasks(EventLoop& loop) {
  std::size_t count = 0;
  const std::string graphs = pending_task_graphs(loop, count);
  char head[96];
  std::snprintf(head, sizeof head, "aio: %zu task%s on loop %p:\n", count, count == 1 ? "" : "s",
                static_cast<const void*>(&loop));
  return head + graphs;
}

void install_task_dump(int signal) {
  EventLoop& loop = get_event_loop();
  loop.add_signal_handler(signal, [&loop] {
    const std::string text = format_all_tasks(loop);
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
  });
}

}  // namespace aio
