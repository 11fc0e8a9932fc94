// aio/detail/spin_lock.hpp — the lock of the structures threads hand work through.
//
// A post to another loop, a Channel's send and receive: each holds its lock for a few dozen
// instructions, and the two sides run on different cores at the same time. A std::mutex that
// finds the lock taken puts the thread to sleep in the kernel (futex) and the holder must wake
// it: microseconds, for a wait that would have lasted nanoseconds. This lock spins instead
// (reading, not writing, the line while it is held), and yields the CPU only if the holder
// seems to have lost its own (a preempted thread).
#pragma once

#include <atomic>
#include <thread>

namespace aio::detail {

/// A spin-wait hint (x86 PAUSE): lets the sibling hyperthread run, and costs the thread that
/// writes the awaited line less to reach us.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class SpinLock {
 public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      int spins = 0;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 1024) {
          cpu_relax();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace aio::detail
