// aio/server_group.hpp — one TCP server on every loop of a group, one port.
//
// asyncio serves from one loop; a program on several loops (aio/loop_thread.hpp) serves from
// each of them: every loop listens on the same port with SO_REUSEPORT, and the kernel spreads
// the incoming connections over their sockets (by a hash of the addresses), so each connection
// lives on one loop from accept to close with nothing shared.
//
//   aio::LoopGroup loops(4);
//   aio::ServerGroup servers = co_await aio::start_server_group(loops.loops(), handle, "", 8888);
//   ...
//   co_await servers.shutdown(5.0);   // stop accepting everywhere; give connections 5 s
//
// start_server_group() is start_server() on each loop (create_server_group(): create_server());
// port 0 picks a free port for all of them. The handler (or factory) is copied to each loop
// and runs there. The ServerGroup's methods act on every loop's server, each on its own loop,
// and return when all have; call them from a task on any loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "aio/coro.hpp"
#include "aio/duration.hpp"
#include "aio/loop.hpp"
#include "aio/network_options.hpp"
#include "aio/protocols.hpp"
#include "aio/streams.hpp"

namespace aio {

namespace detail {
struct ServerGroupBuilder;
}

class ServerGroup {
 public:
  ServerGroup() = default;
  ServerGroup(ServerGroup&&) = default;
  ServerGroup& operator=(ServerGroup&&) noexcept;
  ServerGroup(const ServerGroup&) = delete;
  ServerGroup& operator=(const ServerGroup&) = delete;
  /// Each loop's server is released on its own loop.
  ~ServerGroup();

  /// The port every loop listens on.
  std::uint16_t port() const noexcept { return port_; }
  std::size_t size() const noexcept { return servers_.size(); }

  /// Stops listening on every loop (connections stay, as asyncio's Server.close()).
  Coro<void> close();
  /// Closes (or aborts) every connection of every loop's server.
  Coro<void> close_clients();
  Coro<void> abort_clients();
  /// Waits until every server is closed and all its connections are gone.
  Coro<void> wait_closed();
  /// Graceful shutdown: close(), then wait for the connections to finish; after `grace` (if
  /// given) the ones left are aborted, and this returns once they are gone.
  Coro<void> shutdown(std::optional<Duration> grace = std::nullopt);

 private:
  friend struct detail::ServerGroupBuilder;  // src/net/server_group.cpp
  void release() noexcept;

  std::vector<EventLoop*> loops_;
  std::vector<Server> servers_;  // servers_[i] is loops_[i]'s: touched only there
  std::uint16_t port_ = 0;
};

/// start_server() on each of `loops` (at least one), on one port (SO_REUSEPORT).
Coro<ServerGroup> start_server_group(std::span<EventLoop* const> loops, ClientConnected handler,
                                     std::string host, std::uint16_t port,
                                     ServerOptions options = {});
/// loop.create_server() on each of `loops`, on one port (SO_REUSEPORT).
Coro<ServerGroup> create_server_group(std::span<EventLoop* const> loops, ProtocolFactory factory,
                                      std::string host, std::uint16_t port,
                                      ServerOptions options = {});

}  // namespace aio
