// get_running_loop(), get_event_loop(), set_event_loop(), and the registry of live loops.
#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "aio/loop.hpp"
#include "core/loop_registry.hpp"

namespace aio {

namespace {

// The thread's current loop (asyncio's "event loop for this thread"): what set_event_loop()
// set. Since asyncio 3.14 none is made implicitly.
struct CurrentLoop {
  EventLoop* loop = nullptr;
};
thread_local CurrentLoop current;

std::mutex registry_mutex;
std::vector<const EventLoop*>& registry() {
  static std::vector<const EventLoop*> loops;
  return loops;
}

}  // namespace

void detail::register_loop(EventLoop* loop) {
  {
    std::lock_guard lock(registry_mutex);
    registry().push_back(loop);
  }
  debug_add_loop(loop);
}

void detail::unregister_loop(EventLoop* loop) {
  {
    std::lock_guard lock(registry_mutex);
    auto& loops = registry();
    loops.erase(std::remove(loops.begin(), loops.end(), loop), loops.end());
  }
  debug_remove_loop(loop);
  if (current.loop == loop) current.loop = nullptr;
}

bool detail::loop_alive(const EventLoop* loop) {
  std::lock_guard lock(registry_mutex);
  const auto& loops = registry();
  return std::find(loops.begin(), loops.end(), loop) != loops.end();
}

EventLoop& get_running_loop() {
  return detail::running_loop();
}

EventLoop& get_event_loop() {
  if (EventLoop* running = detail::this_thread.running_loop) return *running;
  if (current.loop) return *current.loop;
  throw RuntimeError("There is no current event loop in this thread");
}

void set_event_loop(EventLoop* loop) {
  current.loop = loop;
}

std::unique_ptr<EventLoop> new_event_loop(RunOptions options) {
  return std::make_unique<EventLoop>(options);
}

namespace detail {

EventLoop& running_loop() {
  if (EventLoop* loop = this_thread.running_loop) return *loop;
  throw RuntimeError("no running event loop");
}

EventLoop& running_or_current_loop() {
  return get_event_loop();
}

EventLoop& loop_for_new_future() {
  return get_event_loop();
}

}  // namespace detail

}  // namespace aio
