// A server's orderly stop, for the example servers: serve until the task is cancelled (Ctrl+C,
// SIGTERM), then stop promptly even with clients connected. Awaiting serve_forever() is not
// enough: its cancellation closes the listener and then waits for every connection (asyncio
// 3.12+), so one idle client would keep the program up. Here the clients are told to go
// (close_clients(), asyncio 3.13), given `grace` seconds to finish, and then cut off
// (abort_clients()). docs/guide.md, "Stopping a server", explains it.
#pragma once

#include <aio/aio.hpp>

#include <exception>

inline aio::Coro<void> serve_until_cancelled(aio::Server server, double grace = 2.0) {
  aio::Event never;  // serving needs no waiting of its own: start_server() started it
  std::exception_ptr cancelled;
  try {
    co_await never.wait();
  } catch (const aio::CancelledError&) {
    cancelled = std::current_exception();
  }
  server.close();  // no new connections
  server.close_clients();
  bool in_time = true;
  try {
    co_await aio::wait_for(server.wait_closed(), grace);
  } catch (const aio::TimeoutError&) {
    in_time = false;
  }
  if (!in_time) {
    server.abort_clients();
    co_await server.wait_closed();
  }
  std::rethrow_exception(cancelled);
}
