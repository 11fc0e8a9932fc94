// Runner: a loop for several run() calls, and asyncio.run()'s orderly shutdown.
#include "aio/runners.hpp"

#include <optional>

#include "aio/graph.hpp"
#include "core/loop_internals.hpp"
#include "posix/environment.hpp"

namespace aio {

namespace {

Coro<void> wait_all(std::vector<TaskRef> tasks) {
  for (TaskRef& t : tasks) co_await detail::DoneAwaiter(*t.core());
}

// asyncio.runners._cancel_all_tasks: cancel what is left, wait for it, report its errors.
void cancel_all_tasks(EventLoop& loop) {
  std::vector<TaskRef> tasks = detail::tasks_of(loop);
  if (tasks.empty()) return;
  for (TaskRef& t : tasks) t.cancel();
  loop.run_until_complete(wait_all(tasks));
  for (TaskRef& t : tasks) {
    if (t.cancelled()) continue;
    if (auto e = t.exception()) {
      loop.call_exception_handler({"unhandled exception during aio::run() shutdown", e, t});
    }
  }
}

}  // namespace

namespace detail {
bool sigint_is_default();
int sigint_number() noexcept;
bool is_main_thread() noexcept;
}  // namespace detail

Runner::Interrupts::Interrupts(EventLoop& loop, TaskRef main) : loop_(loop) {
  if (!detail::is_main_thread() || !detail::sigint_is_default()) return;
  loop.add_signal_handler(detail::sigint_number(), [&loop, main, count = count_]() mutable {
    // The handler runs as a callback: a main task that ended before it ran (cancelled by
    // someone else, say) is not Ctrl+C's doing, and that run is ending anyway.
    if (*count == 0 && !main.done()) {
      ++*count;
      main.cancel();
      return;
    }
    if (*count > 0) {  // the second: out of the loop at once, whatever the task is doing
      detail::LoopInternals::set_interrupt(loop, std::make_exception_ptr(KeyboardInterrupt()));
    }
  });
  installed_ = true;
}

Runner::Interrupts::~Interrupts() {
  if (installed_ && !loop_.is_closed()) loop_.remove_signal_handler(detail::sigint_number());
}

EventLoop& Runner::get_loop() {
  if (closed_) throw RuntimeError("Runner is closed");
  if (!loop_) {
    loop_ = std::make_unique<EventLoop>(options_);
    set_event_loop(loop_.get());
    // AIO_DUMP_SIGNAL: signals are the main thread's loop's (a LoopThread's Runner has none).
    const std::optional<int> signal = detail::environment::dump_signal();
    if (signal && detail::is_main_thread()) {
      install_task_dump(*signal);
    }
  }
  return *loop_;
}

void Runner::adopt_context(const TaskRef& task) noexcept {
  if (const auto* context = task.core()->shared_context(); context && *context) {
    context_ = detail::ContextAccess::make(*context);
  }
}

void Runner::check_can_run() const {
  if (detail::this_thread.running_loop) {
    throw RuntimeError("Runner.run() cannot be called from a running event loop");
  }
  if (closed_) throw RuntimeError("Runner is closed");
}

void Runner::close() {
  if (closed_) return;
  closed_ = true;
  if (!loop_) return;
  struct Finally {
    Runner& r;
    ~Finally() {
      set_event_loop(nullptr);  // asyncio's Runner leaves no current loop behind
      r.loop_->close();         // kept, closed, until the Runner goes (get_loop() refuses it)
    }
  } finally{*this};
  cancel_all_tasks(*loop_);
  loop_->run_until_complete(loop_->shutdown_asyncgens());
  // asyncio's THREAD_JOIN_TIMEOUT; none on virtual time, whose clock jumps while threads work.
  std::optional<Duration> join_timeout;
  if (!loop_->uses_virtual_time()) join_timeout = Duration(300);
  loop_->run_until_complete(loop_->shutdown_default_executor(join_timeout));
}

Runner::~Runner() {
  try {
    close();
  } catch (...) {
    // A destructor cannot throw; close() explicitly to see shutdown errors.
  }
}

}  // namespace aio
