// aio/tasks.hpp — the asyncio.tasks module in one include: sleep, gather, as_completed, and Task.
// (aio/task.hpp, without the s, is the Task class alone; each of the others has its own header
// too. API.md names this one for the high-level functions.)
#pragma once

#include "aio/as_completed.hpp"
#include "aio/gather.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
