// aio/aio.hpp — everything: `#include <aio/aio.hpp>` is `import asyncio`.
//
// It also gives <chrono>, so that `aio::sleep(250ms)` needs nothing more. The single headers
// do not: aio/duration.hpp takes any std::chrono::duration without including <chrono> (the
// costliest standard header a core header would need), so code that includes only them and
// makes durations includes <chrono> itself.
#pragma once

#include <chrono>

#include "aio/broadcast.hpp"
#include "aio/channel.hpp"
#include "aio/clock.hpp"
#include "aio/contextvars.hpp"
#include "aio/coro.hpp"
#include "aio/duration.hpp"
#include "aio/errors.hpp"
#include "aio/executor.hpp"
#include "aio/future.hpp"
#include "aio/generator.hpp"
#include "aio/graph.hpp"
#include "aio/handle.hpp"
#include "aio/locks.hpp"
#include "aio/loop.hpp"
#include "aio/loop_thread.hpp"
#include "aio/outcome.hpp"
#include "aio/parallel.hpp"
#include "aio/protocols.hpp"
#include "aio/queues.hpp"
#include "aio/run_on.hpp"
#include "aio/run_options.hpp"
#include "aio/runners.hpp"
#include "aio/server_group.hpp"
#include "aio/socket.hpp"
#include "aio/ssl.hpp"
#include "aio/streams.hpp"
#include "aio/subprocess.hpp"
#include "aio/task.hpp"
#include "aio/task_factory.hpp"
#include "aio/task_group.hpp"
#include "aio/tasks.hpp"
#include "aio/threads.hpp"
#include "aio/timeouts.hpp"
#include "aio/watch.hpp"
