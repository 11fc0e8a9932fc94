// The stall detector's watchdog and its signal handler (see stall_watch.hpp).
#include "core/stall_watch.hpp"

#include <execinfo.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include "aio/detail/future_base.hpp"
#include "aio/detail/thread_state.hpp"
#include "aio/detail/value_repr.hpp"
#include "aio/loop.hpp"
#include "core/symbolize.hpp"

namespace aio::detail {

namespace {

// The signal the watchdog interrupts a stuck loop thread with (one of the real-time ones, which
// nothing else in the library uses; a program that needs it can leave the detector off).
int capture_signal() noexcept {
  return SIGRTMIN + 5;
}

// The watch the signalled thread captures into (set by the watchdog before it signals; the
// handler runs on the loop thread).
std::atomic<StallWatch*> capturing{nullptr};

void on_capture_signal(int) {
  const int saved = errno;
  if (StallWatch* w = capturing.load(std::memory_order_acquire)) w->capture();
  errno = saved;
}

void install_capture_handler() {
  static const bool installed = [] {
    void* warm[1];
    backtrace(warm, 1);  // loads libgcc's unwinder now, not inside the handler
    struct sigaction action {};
    action.sa_handler = on_capture_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(capture_signal(), &action, nullptr);
    return true;
  }();
  (void)installed;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

StallWatch::StallWatch(EventLoop& loop, double threshold, StallHandler handler)
    : loop_(loop), threshold_(threshold), handler_(handler) {
  install_capture_handler();
  watchdog_ = std::thread([this] { watch(); });
}

StallWatch::~StallWatch() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  watchdog_.join();
}

int StallWatch::current_thread_id() noexcept {
  static thread_local const int id = static_cast<int>(syscall(SYS_gettid));
  return id;
}

// On the loop thread, in the signal handler: plain reads of what the stuck step's task is,
// into preallocated storage. No allocation, no lock.
void StallWatch::capture() noexcept {
  Capture& c = capture_;
  c.frames = 0;
  c.task = nullptr;
  if (const FutureBase* task = this_thread.current_task) {
    c.task = task;
    c.task_id = task->id();
    for (const CoroFrame* f = &task->frame(); f && c.frames < max_frames; f = f->awaiting) {
      c.function[c.frames] = f->function;
      c.file[c.frames] = f->file;
      c.line[c.frames] = f->line;
      ++c.frames;
    }
  }
  c.native = backtrace(c.native_stack, max_native);
  captured_.store(true, std::memory_order_release);
}

void StallWatch::note_slowest(double seconds) noexcept {
  auto slowest = std::atomic_ref<std::uint64_t>(LoopAccess::counters(loop_).slowest_step_ns);
  const auto ns = static_cast<std::uint64_t>(seconds * 1e9);
  if (ns > slowest.load(std::memory_order_relaxed)) slowest.store(ns, std::memory_order_relaxed);
}

void StallWatch::end_stall() {
  std::uint64_t stalled = steps_;
  if (stalled_.compare_exchange_strong(stalled, 0)) {
    const double lasted = steady_seconds() - stall_since_.load(std::memory_order_relaxed);
    note_slowest(lasted);
    report_end(lasted);
  }
}

void StallWatch::watch() {
  // Sample four times per threshold: a stall is seen between 1 and 1.25 thresholds in.
  const auto period = std::chrono::duration<double>(threshold_ / 4);
  std::uint64_t seen = 0, reported = 0;
  double since = 0;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
    const std::uint64_t step = step_.load(std::memory_order_acquire);
    const double now = steady_seconds();
    if (step != seen) {
      // A step seen running for a while: the slowest so far? (to the sampling period)
      if (seen != 0 && now - since > 0) note_slowest(now - since);
      seen = step;
      since = now;
      continue;
    }
    if (step != 0 && step != reported && now - since >= threshold_) {
      reported = step;
      lock.unlock();
      report_stall(step, now - since);
      stall_since_.store(since, std::memory_order_relaxed);
      stalled_.store(step, std::memory_order_release);
      // The step may have ended while it was reported: then its end is the watchdog's to say.
      std::uint64_t stalled = step;
      if (step_.load(std::memory_order_acquire) != step &&
          stalled_.compare_exchange_strong(stalled, 0)) {
        const double lasted = steady_seconds() - since;
        note_slowest(lasted);
        report_end(lasted);
      }
      lock.lock();
    }
  }
}

void StallWatch::report_stall(std::uint64_t step, double running_for) {
  // Ask the loop thread (still inside the step, or it would have moved on) for its state.
  captured_.store(false, std::memory_order_relaxed);
  capturing.store(this, std::memory_order_release);
  const int tid = thread_id_.load(std::memory_order_relaxed);
  bool got = false;
  if (tid != 0 && syscall(SYS_tgkill, getpid(), tid, capture_signal()) == 0) {
    for (int i = 0; i < 1000 && !got; ++i) {
      got = captured_.load(std::memory_order_acquire);
      if (!got) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  capturing.store(nullptr, std::memory_order_release);
  std::atomic_ref<std::uint64_t>(LoopAccess::counters(loop_).stalls)
      .fetch_add(1, std::memory_order_relaxed);

  StallReport report;
  report.loop = &loop_;
  report.seconds = running_for;
  const bool same_step = step_.load(std::memory_order_acquire) == step;
  if (got && capture_.task) {
    const auto* task = static_cast<const FutureBase*>(capture_.task);
    // The name lives in the extras table, found by address under its lock; the task itself is
    // not read here (the step may end and free it meanwhile).
    report.task = "Task " + quoted_repr(FutureBase::name_by_address(task, capture_.task_id));
  } else {
    report.task = "a callback";
  }
  if (got) {
    for (int i = capture_.frames - 1; i >= 0; --i) {  // innermost first
      // Lines are those of each Coro's last co_await: the innermost runs on from its own.
      report.call_stack += std::string("  File ") + quoted_repr(capture_.file[i]) + ", line " +
                           std::to_string(capture_.line[i]) + ", in async " + capture_.function[i] +
                           (i == capture_.frames - 1 ? "() (running on from there)\n" : "()\n");
    }
    for (int i = 0; i < capture_.native; ++i) {
      report.native_stack +=
          "  #" + std::to_string(i) + " " + symbolize(capture_.native_stack[i]) + "\n";
    }
  } else {
    report.native_stack = "  (the loop thread did not answer)\n";
  }
  char head[160];
  std::snprintf(head, sizeof head, "aio: stall: %s has been running for %.3f s on loop %p%s\n",
                report.task.c_str(), running_for, static_cast<const void*>(&loop_),
                same_step ? "" : " (it has ended since)");
  report.text = head;
  if (!report.call_stack.empty())
    report.text += "Call stack (innermost first):\n" + report.call_stack;
  report.text += "Native stack of the loop thread:\n" + report.native_stack;
  task_name_ = report.task;
  if (handler_) {
    handler_(report);
  } else {
    std::fprintf(stderr, "%s", report.text.c_str());
  }
}

void StallWatch::report_end(double lasted) {
  StallReport report;
  report.loop = &loop_;
  report.ended = true;
  report.seconds = lasted;
  report.task = task_name_;
  char text[160];
  std::snprintf(text, sizeof text, "aio: stall: %s ran for %.3f s in one step\n",
                task_name_.c_str(), lasted);
  report.text = text;
  if (handler_) {
    handler_(report);
  } else {
    std::fprintf(stderr, "%s", report.text.c_str());
  }
}

}  // namespace aio::detail
