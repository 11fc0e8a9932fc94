// What the loop keeps for its less frequent services: the queue other threads schedule into,
// the signal handlers, the async generators to finalise at shutdown and the default executor.
// It lives here, behind one pointer, so that aio/loop.hpp (which every user's file includes)
// needs neither <mutex>, <thread>, <map> nor <unordered_set>; the hot state stays in the loop.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "aio/executor.hpp"
#include "aio/loop.hpp"
#include "core/post_queue.hpp"

namespace aio::detail {

struct LoopServices {
  PostQueue posts;  // what other threads post (call_soon_threadsafe, run_on...), until drained
  std::map<int, std::function<void()>> signal_handlers;
  std::unordered_set<GeneratorBase*> generators;  // live async generators
  std::shared_ptr<Executor> default_executor;
  bool executor_shutdown_called = false;
  std::thread executor_joiner;
  // Another thread (not an executor delivering a job's result) has called in: it may again,
  // so a loop with nothing else to wait for is not deadlocked.
  std::atomic<bool> foreign_callers{
      false};  // a shutdown_default_executor() that timed out left it running
};

}  // namespace aio::detail
