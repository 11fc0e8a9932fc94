// Small pieces of the task layer: current_task(), all_tasks(), the debug-mode reports.
#include <cstdio>
#include <memory>
#include <system_error>

#include "aio/detail/value_repr.hpp"
#include "aio/loop.hpp"
#include "core/loop_internals.hpp"
#include "posix/environment.hpp"

namespace aio {

std::string describe_exception(const std::exception_ptr& e) {
  if (!e) return "None";
  try {
    std::rethrow_exception(e);
  } catch (const BaseException& b) {
    return b.message().empty() ? std::string(b.name()) : std::string(b.name()) + ": " + b.message();
  } catch (const std::exception& x) {
    return detail::demangled_name(typeid(x)) + ": " + x.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

std::optional<TaskRef> current_task() {
  detail::running_loop();  // RuntimeError when no loop runs
  if (detail::FutureBase* task = detail::this_thread.current_task) return TaskRef(task);
  return std::nullopt;
}

std::vector<TaskRef> all_tasks() {
  return detail::tasks_of(detail::running_loop());
}

namespace detail {

std::vector<TaskRef> tasks_of(EventLoop& loop) {
  std::vector<TaskRef> tasks;
  for (FutureBase* t = LoopInternals::tasks(loop); t; t = t->next_task()) tasks.emplace_back(t);
  return tasks;
}

std::uint64_t next_callback_id() noexcept {
  static thread_local std::uint64_t counter = 0;
  return ++counter;
}

void check_can_wait(FutureBase& task, FutureBase& awaited) {
  if (&task == &awaited) throw RuntimeError("Task cannot await on itself");
  if (&task.loop() != &awaited.loop()) {
    throw RuntimeError("Task got Future attached to a different loop");
  }
}

// Declared only where the check is compiled in (aio/coro.hpp), defined always: the library and
// the program using it may be built with different compilers or NDEBUG settings.
[[noreturn]] void report_misplaced_frame(const char* function) noexcept;
void report_misplaced_frame(const char* function) noexcept {
  std::fprintf(stderr,
               "aio: coroutine '%s' was miscompiled by GCC before 13: a co_await in an if, "
               "while or switch condition of a coroutine that declares no variable (GCC PR "
               "106188). Write `bool ok = co_await x; if (ok)`; README.md, \"Compilers\".\n",
               function);
  std::abort();
}

void throw_reused_coro() {
  throw RuntimeError("cannot reuse already awaited coroutine");
}

void throw_empty_coro() {
  throw RuntimeError("cannot await an empty Coro (moved from, or given to a task)");
}

void report_never_awaited(const char* function) noexcept {
  const EventLoop* loop = this_thread.running_loop;
  const bool debug = (loop && loop->get_debug()) || environment::debug();
  if (debug) std::fprintf(stderr, "RuntimeWarning: coroutine '%s' was never awaited\n", function);
}

}  // namespace detail

}  // namespace aio
