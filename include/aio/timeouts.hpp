// aio/timeouts.hpp — waiting with limits, as asyncio's timeouts and tasks modules offer it:
//   aio/timeout.hpp   asyncio.timeout / timeout_at / Timeout: a deadline for a body run inline
//   aio/wait_for.hpp  asyncio.wait_for(aw, timeout)
//   aio/shield.hpp    asyncio.shield(aw): cancelling the result leaves `aw` running
//   aio/wait.hpp      asyncio.wait(futures, return_when, timeout) -> {done, pending}
#pragma once

#include "aio/shield.hpp"
#include "aio/timeout.hpp"
#include "aio/wait.hpp"
#include "aio/wait_for.hpp"
