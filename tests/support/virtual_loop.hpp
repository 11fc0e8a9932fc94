// Test support: run a test body as the main task of a virtual-time loop, and record events.
#pragma once

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

/// The loop's clock, for checking virtual durations.
inline double now() {
  return get_running_loop().time();
}

}  // namespace aio::testing
