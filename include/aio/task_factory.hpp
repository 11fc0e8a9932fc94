// aio/task_factory.hpp — asyncio's task factories: how a loop starts the tasks it creates.
//
// A loop's task factory decides what loop.create_task() does with a new task (and so
// create_task(), gather(), TaskGroup, ensure_future(), which all go through it). The default
// schedules the task's first step, as asyncio's Task does. asyncio.eager_task_factory (3.12)
// instead runs that step at once, inside create_task(), until the task first suspends: a task
// that finishes there never goes through the loop, and one created while the loop is not
// running starts as usual. C++ has no Task subclasses for a factory to construct, so aio names
// the two behaviours instead of taking any callable: loop.set_task_factory(eager_task_factory),
// and loop.set_task_factory(nullptr) for asyncio's None.
#pragma once

#include <cstdint>

namespace aio {

enum class TaskFactory : std::uint8_t {
  standard,  ///< the first step is scheduled (asyncio's default, a factory of None)
  eager,     ///< the first step runs inside create_task() while the loop runs
};

/// asyncio.eager_task_factory: `loop.set_task_factory(aio::eager_task_factory)`.
inline constexpr TaskFactory eager_task_factory = TaskFactory::eager;

}  // namespace aio
