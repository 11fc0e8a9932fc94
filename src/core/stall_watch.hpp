// The stall detector (RunOptions::stall_threshold, AIO_STALL_MS): a watchdog thread per loop
// that notices a step (a task's resume or a callback) running longer than the threshold and
// reports it while it still runs: the loop, the task, its call stack, the loop thread's native
// stack; and, once the step ends, how long it lasted. docs/design.md "Introspection".
//
// The loop thread only publishes a step number as each step begins and ends (two relaxed
// atomic stores). The watchdog samples it; when one step outlasts the threshold, it sends the
// loop thread a signal whose handler (on the loop thread itself, so racing nothing) copies the
// running task's chain of frames and the native stack into this object, without allocating.
// The watchdog formats and prints that; it never touches the loop's other state.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "aio/run_options.hpp"

namespace aio {
class EventLoop;
}

namespace aio::detail {

class StallWatch {
 public:
  StallWatch(EventLoop& loop, double threshold, StallHandler handler);
  ~StallWatch();
  StallWatch(const StallWatch&) = delete;
  StallWatch& operator=(const StallWatch&) = delete;

  /// The loop thread, as it starts running (the thread the watchdog signals).
  void on_loop_thread() noexcept {
    thread_id_.store(current_thread_id(), std::memory_order_relaxed);
  }
  /// The loop thread, around each step: no clock, no lock.
  void begin_step() noexcept { step_.store(++steps_, std::memory_order_release); }
  /// When the step was reported as a stall, its end is reported here.
  void end_step() {
    step_.store(0, std::memory_order_release);
    if (stalled_.load(std::memory_order_acquire) == steps_) [[unlikely]]
      end_stall();
  }

  /// The signal handler's half (the loop thread, interrupted inside the step).
  void capture() noexcept;

 private:
  static int current_thread_id() noexcept;
  void watch();
  void report_stall(std::uint64_t step, double running_for);
  void report_end(double lasted);
  void end_stall();
  // The metrics' slowest step: at least `seconds` (from either thread).
  void note_slowest(double seconds) noexcept;

  static constexpr int max_frames = 64;
  static constexpr int max_native = 64;
  struct Capture {
    std::uint64_t task_id = 0;
    const void* task = nullptr;
    int frames = 0;
    const char* function[max_frames];
    const char* file[max_frames];
    std::uint32_t line[max_frames];
    int native = 0;
    void* native_stack[max_native];
  };

  EventLoop& loop_;
  const double threshold_;
  StallHandler handler_;
  std::uint64_t steps_ = 0;  // the loop thread's count
  std::atomic<std::uint64_t> step_{0};
  // The step reported as a stall, until one side (the loop thread as it ends, or the watchdog
  // seeing it ended) claims its end report.
  std::atomic<std::uint64_t> stalled_{0};
  std::atomic<double> stall_since_{0};  // when the watchdog first saw the stalled step
  std::atomic<int> thread_id_{0};
  Capture capture_;
  std::atomic<bool> captured_{false};
  std::string task_name_;  // the task of the stall reported (written before stalled_ is set)

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread watchdog_;
};

}  // namespace aio::detail
