// The loop's internals that the library's sources use (the public templates need only
// aio/loop.hpp's LoopAccess): its backend, its list of tasks, the resources it closes, the
// async generators it finalises, and the KeyboardInterrupt on its way out.
#pragma once

#include <exception>
#include <unordered_set>
#include <utility>

#include "aio/loop.hpp"
#include "core/loop_resource.hpp"
#include "core/loop_services.hpp"

namespace aio::detail {

struct LoopInternals {
  static Backend& backend(EventLoop& loop) noexcept { return *loop.backend_; }

  static LoopCounters& counters(EventLoop& loop) noexcept { return loop.counters_; }

  static void link_task(EventLoop& loop, FutureBase* task) noexcept {
    ++loop.counters_.tasks_created;
    task->prev_task_ = nullptr;
    task->next_task_ = loop.tasks_;
    if (loop.tasks_) loop.tasks_->prev_task_ = task;
    loop.tasks_ = task;
  }
  static void unlink_task(EventLoop& loop, FutureBase* task) noexcept {
    (task->prev_task_ ? task->prev_task_->next_task_ : loop.tasks_) = task->next_task_;
    if (task->next_task_) task->next_task_->prev_task_ = task->prev_task_;
    task->prev_task_ = task->next_task_ = nullptr;
  }
  /// The unfinished tasks, newest first (walk with next_task()).
  static FutureBase* tasks(EventLoop& loop) noexcept { return loop.tasks_; }
  /// A task created now takes its first step at once (eager_start, or else the eager factory,
  /// on a running loop).
  static bool starts_tasks_eagerly(const EventLoop& loop, EagerStart eager) noexcept {
    return (eager == EagerStart::factory ? loop.eager_tasks_ : eager == EagerStart::yes) &&
           loop.running_;
  }

  static void set_interrupt(EventLoop& loop, std::exception_ptr e) noexcept {
    loop.interrupt_ = std::move(e);
  }

  static void add_resource(EventLoop& loop, LoopResource* r) noexcept {
    if (r->registered_) return;
    r->registered_ = true;
    r->prev_resource_ = nullptr;
    r->next_resource_ = loop.resources_;
    if (loop.resources_) loop.resources_->prev_resource_ = r;
    loop.resources_ = r;
  }
  static void remove_resource(EventLoop& loop, LoopResource* r) noexcept {
    if (!r->registered_) return;
    r->registered_ = false;
    (r->prev_resource_ ? r->prev_resource_->next_resource_ : loop.resources_) = r->next_resource_;
    if (r->next_resource_) r->next_resource_->prev_resource_ = r->prev_resource_;
    r->prev_resource_ = r->next_resource_ = nullptr;
  }
  /// The open transports and servers, newest first (walk with next_resource()).
  static LoopResource* resources(EventLoop& loop) noexcept { return loop.resources_; }
  static LoopResource* next_resource(const LoopResource* r) noexcept { return r->next_resource_; }

  static const TimerHeap& timers(const EventLoop& loop) noexcept { return loop.timers_; }

  static std::unordered_set<GeneratorBase*>& generators(EventLoop& loop) noexcept {
    return loop.services_->generators;
  }
  /// From the loop's own thread: calls from other loops (run_on, call_on) are refused from now
  /// on; replies to its own calls still come in.
  static void refuse_new_work(EventLoop& loop);
};

}  // namespace aio::detail
