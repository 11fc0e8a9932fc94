// aio/aio.hpp — everything: `#include <aio/aio.hpp>` is `import asyncio`.
#pragma once

#include "aio/clock.hpp"
#include "aio/coro.hpp"
#include "aio/duration.hpp"
#include "aio/errors.hpp"
#include "aio/future.hpp"
#include "aio/handle.hpp"
#include "aio/locks.hpp"
#include "aio/loop.hpp"
#include "aio/outcome.hpp"
#include "aio/queues.hpp"
#include "aio/run_options.hpp"
#include "aio/runners.hpp"
#include "aio/task.hpp"
#include "aio/task_group.hpp"
#include "aio/tasks.hpp"
#include "aio/timeouts.hpp"
