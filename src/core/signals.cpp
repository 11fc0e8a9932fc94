// add_signal_handler / remove_signal_handler, and Ctrl+C for run().
//
// A POSIX signal handler may only do async-signal-safe things: ours sets the signal's bit in a
// lock-free mask and wakes the loop (the backend's eventfd write). The loop notices the mask
// at its next iteration and runs the registered callbacks as ordinary callbacks. One loop at a
// time owns signal handling (asyncio allows it only in the main thread's loop).
#include <csignal>

#include <atomic>
#include <cstdint>
#include <map>
#include <thread>

#include "aio/loop.hpp"
#include "core/loop_services.hpp"
#include "io/backend.hpp"

namespace aio {

namespace {

std::atomic<std::uint64_t> pending_signals{0};
std::atomic<EventLoop*> signal_loop{nullptr};
std::atomic<detail::Backend*> signal_backend{nullptr};

extern "C" void on_signal(int sig) {
  pending_signals.fetch_or(std::uint64_t{1} << sig, std::memory_order_relaxed);
  if (detail::Backend* b = signal_backend.load(std::memory_order_relaxed)) b->wake();
}

void check_signal_number(int sig) {
  if (sig <= 0 || sig >= 64) throw std::invalid_argument("invalid signal number");
  if (sig == SIGKILL || sig == SIGSTOP) throw RuntimeError("SIGKILL and SIGSTOP cannot be caught");
}

}  // namespace

void EventLoop::add_signal_handler(int sig, std::function<void()> callback) {
  check_open();
  check_signal_number(sig);
  EventLoop* owner = signal_loop.load();
  if (owner && owner != this) throw RuntimeError("another event loop handles signals");
  signal_loop.store(this);
  signal_backend.store(backend_.get());
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (::sigaction(sig, &action, nullptr) != 0) {
    throw std::system_error(errno, std::system_category(), "sigaction");
  }
  services_->signal_handlers[sig] = std::move(callback);
}

bool EventLoop::remove_signal_handler(int sig) {
  check_signal_number(sig);
  if (!services_->signal_handlers.erase(sig)) return false;
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(sig, &action, nullptr);
  if (services_->signal_handlers.empty()) {
    signal_backend.store(nullptr);
    signal_loop.store(nullptr);
  }
  return true;
}

bool EventLoop::signal_pending() const noexcept {
  return !services_->signal_handlers.empty() &&
         pending_signals.load(std::memory_order_relaxed) != 0;
}

void EventLoop::dispatch_signals() {
  if (services_->signal_handlers.empty()) return;
  if (pending_signals.load(std::memory_order_relaxed) == 0) return;  // no locked op per turn
  std::uint64_t mask = pending_signals.exchange(0, std::memory_order_relaxed);
  for (int sig = 1; mask; ++sig) {
    if (!(mask & (std::uint64_t{1} << sig))) continue;
    mask &= ~(std::uint64_t{1} << sig);
    auto it = services_->signal_handlers.find(sig);
    if (it != services_->signal_handlers.end()) call_soon(it->second);
  }
}

void EventLoop::remove_all_signal_handlers() noexcept {
  while (!services_->signal_handlers.empty())
    remove_signal_handler(services_->signal_handlers.begin()->first);
}

namespace detail {

bool sigint_is_default() {
  struct sigaction current {};
  ::sigaction(SIGINT, nullptr, &current);
  return current.sa_handler == SIG_DFL;
}

int sigint_number() noexcept {
  return SIGINT;
}

namespace {
const std::thread::id main_thread_id = std::this_thread::get_id();  // set at program start
}  // namespace

bool is_main_thread() noexcept {
  return std::this_thread::get_id() == main_thread_id;
}

}  // namespace detail

}  // namespace aio
