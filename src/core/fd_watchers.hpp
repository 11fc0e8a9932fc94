// add_reader / add_writer: asyncio's readiness callbacks, as standing readiness operations.
// A watcher's operation completes when the descriptor is ready; its run() calls the user's
// function and starts the operation again, so the callback keeps firing while the descriptor
// stays ready (level-triggered, as asyncio's selector loop).
#pragma once

#include <functional>
#include <memory>
#include <unordered_map>

#include "aio/loop.hpp"
#include "io/io_op.hpp"

namespace aio::detail {

/// Starts a watcher's operation on the loop's backend (defined beside the backend's users).
void start_on(EventLoop& loop, IoOp& op);

class FdWatchers {
  struct Watcher;

 public:
  explicit FdWatchers(EventLoop& loop) : loop_(loop) {}
  ~FdWatchers();
  FdWatchers(const FdWatchers&) = delete;
  FdWatchers& operator=(const FdWatchers&) = delete;

  void add(int fd, bool write, std::function<void()> fn);
  bool remove(int fd, bool write);

 private:
  EventLoop& loop_;
  std::unordered_map<int, std::unique_ptr<Watcher>> readers_, writers_;
};

struct FdWatchers::Watcher final : IoOp {
  EventLoop* loop;
  std::function<void()> fn;
  bool removed = false;  // remove_*() ran while the completion was queued or running
  bool running = false;

  void arm() {
    try_first = false;
    start_on(*loop, *this);
  }
  void run() override {
    if (removed) {
      delete this;
      return;
    }
    arm();  // first: the callback may remove the watcher (or close the loop)
    running = true;
    {
      CallbackContextScope context;  // a callback of its own, as call_soon's
      fn();
    }
    running = false;
    if (removed) delete this;
  }
  void discard() noexcept override {
    if (removed) delete this;  // the loop closed with its completion queued
  }
};

}  // namespace aio::detail
