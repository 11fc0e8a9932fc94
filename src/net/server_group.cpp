// ServerGroup: a server on every loop of a group, on one port. Each loop's Server handle is
// made, used and released on that loop (run_on / call_on / call_soon_threadsafe); the group
// on the caller's side only holds them.
#include "aio/server_group.hpp"

#include <exception>
#include <functional>
#include <stdexcept>
#include <utility>

#include "aio/errors.hpp"
#include "aio/run_on.hpp"
#include "aio/wait_for.hpp"

namespace aio {

namespace {

struct Started {
  Server server;
  std::uint16_t port;
};

// On the target loop: starts its server and reads the port it got.
Coro<Started> start_one(Coro<Server> starting) {
  Server server = co_await std::move(starting);
  const std::uint16_t port = server.port();
  co_return Started{std::move(server), port};
}

}  // namespace

namespace detail {

// The first loop binds (port 0: the kernel picks), the others join it on that port.
struct ServerGroupBuilder {
  static Coro<ServerGroup> start(std::span<EventLoop* const> loops, std::uint16_t port,
                                 std::function<Coro<Server>(std::uint16_t)> start_on_loop) {
    if (loops.empty()) throw std::invalid_argument("a server group needs at least one loop");
    ServerGroup group;
    std::exception_ptr error;
    try {
      for (EventLoop* loop : loops) {
        Coro<Started> starting = start_one(start_on_loop(port));
        Started started = co_await run_on(*loop, std::move(starting));
        port = started.port;
        group.loops_.push_back(loop);
        group.servers_.push_back(std::move(started.server));
      }
      group.port_ = port;
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      co_await group.close();  // those already listening stop
      std::rethrow_exception(error);
    }
    co_return group;
  }
};

}  // namespace detail

Coro<ServerGroup> start_server_group(std::span<EventLoop* const> loops, ClientConnected handler,
                                     std::string host, std::uint16_t port, ServerOptions options) {
  options.reuse_port = true;
  auto start_on_loop = [handler = std::move(handler), host = std::move(host),
                        options = std::move(options)](std::uint16_t p) {
    return start_server(handler, host, p, options);
  };
  co_return co_await detail::ServerGroupBuilder::start(loops, port, std::move(start_on_loop));
}

Coro<ServerGroup> create_server_group(std::span<EventLoop* const> loops, ProtocolFactory factory,
                                      std::string host, std::uint16_t port, ServerOptions options) {
  options.reuse_port = true;
  auto start_on_loop = [factory = std::move(factory), host = std::move(host),
                        options = std::move(options)](std::uint16_t p) {
    return get_running_loop().create_server(factory, host, p, options);
  };
  co_return co_await detail::ServerGroupBuilder::start(loops, port, std::move(start_on_loop));
}

ServerGroup& ServerGroup::operator=(ServerGroup&& other) noexcept {
  if (this != &other) {
    release();
    loops_ = std::move(other.loops_);
    servers_ = std::move(other.servers_);
    port_ = other.port_;
  }
  return *this;
}

ServerGroup::~ServerGroup() {
  release();
}

void ServerGroup::release() noexcept {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    try {
      loops_[i]->call_soon_threadsafe([server = std::move(servers_[i])]() mutable {
        server = Server();  // the last reference goes on the server's own loop
      });
    } catch (const RuntimeError&) {
      // The loop is closed: its servers closed with it.
    }
  }
  servers_.clear();
  loops_.clear();
}

Coro<void> ServerGroup::close() {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    auto close_one = [server = &servers_[i]] { server->close(); };
    co_await call_on(*loops_[i], close_one);
  }
}

Coro<void> ServerGroup::close_clients() {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    auto close_one = [server = &servers_[i]] { server->close_clients(); };
    co_await call_on(*loops_[i], close_one);
  }
}

Coro<void> ServerGroup::abort_clients() {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    auto abort_one = [server = &servers_[i]] { server->abort_clients(); };
    co_await call_on(*loops_[i], abort_one);
  }
}

Coro<void> ServerGroup::wait_closed() {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    co_await run_on(*loops_[i], servers_[i].wait_closed());
  }
}

Coro<void> ServerGroup::shutdown(std::optional<Duration> grace) {
  co_await close();
  if (!grace) {
    co_await wait_closed();
    co_return;
  }
  bool timed_out = false;
  try {
    co_await wait_for(wait_closed(), grace);
  } catch (const TimeoutError&) {
    timed_out = true;
  }
  if (timed_out) {
    co_await abort_clients();
    co_await wait_closed();
  }
}

}  // namespace aio
