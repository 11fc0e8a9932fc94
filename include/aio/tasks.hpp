// aio/tasks.hpp — asyncio.tasks: sleep, gather, as_completed (and Task, via aio/task.hpp).
#pragma once

#include "aio/as_completed.hpp"
#include "aio/gather.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
