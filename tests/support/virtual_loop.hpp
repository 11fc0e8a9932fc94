// Test support: run a test body as the main task of a virtual-time loop, and record events.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

namespace aio::testing {

inline constexpr RunOptions virtual_time{.debug = false, .virtual_time = true};

/// Runs `body()` (a lambda returning a Coro) with aio::run on virtual time; the lambda must
/// outlive the call, so pass a named lambda or a temporary used only in this expression.
template <class F>
auto run_virtual(F&& body) {
  return aio::run(body(), virtual_time);
}

/// `co_await yield0()`: one trip through the loop (asyncio.sleep(0)).
inline Sleep<void> yield0() {
  return sleep(0);
}

/// The order of events, as trio's tests record it.
struct Record {
  std::vector<std::string> events;
  void operator()(std::string e) { events.push_back(std::move(e)); }
};

/// A task that sleeps `d` seconds and, if cancelled meanwhile, fails instead (asyncio's tests'
/// `try: await sleep(d) finally: 1 / 0`; std::domain_error stands for ZeroDivisionError).
inline Coro<void> crash_when_cancelled(double d) {
  bool cancelled = false;
  try {
    co_await sleep(d);
  } catch (const CancelledError&) {
    cancelled = true;
  }
  if (cancelled) throw std::domain_error("zero division");
}

/// The loop's clock, for checking virtual durations.
inline double now() {
  return get_running_loop().time();
}

}  // namespace aio::testing
