// A future's rarely used state, kept out of FutureBase in a table keyed by the future's address
// (FutureBase::extras(), src/task/future_base.cpp): a task's name, its cancel message and count
// of requests, its contextvars context when not empty. docs/design.md says why.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "aio/detail/future_base.hpp"

namespace aio::detail {

struct FutureExtras {
  std::string cancel_message;
  std::unique_ptr<std::string> name;
  std::int32_t cancel_requests = 0;
  std::shared_ptr<ContextState> context;  // a task's contextvars context, when not empty
  // Who waits on the future without a callback saying so (asyncio 3.14's
  // future_add_to_awaited_by): a TaskGroup's parent task, shield's caller. Each holds a
  // reference.
  std::vector<FutureBase*> awaited_by;
};

/// The table of every future's extras, by address (src/task/future_base.cpp).
using ExtrasMap = std::unordered_map<const FutureBase*, FutureExtras>;
/// The table itself, for the debug table (src/debug/debug_table.cpp), whose readers walk it
/// from outside the process to find the tasks' names; never to be used in-process unlocked.
const ExtrasMap& extras_map() noexcept;

}  // namespace aio::detail
