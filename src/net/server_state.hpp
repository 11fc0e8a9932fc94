// What a Server handle points to: the listening sockets, their accept operations, and the
// connections they made (asyncio.Server's _sockets, _active_count, _waiters).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "aio/future.hpp"
#include "aio/loop.hpp"
#include "aio/protocols.hpp"
#include "aio/socket.hpp"
#include "core/loop_resource.hpp"
#include "io/io_op.hpp"

namespace aio::detail {

class StreamTransport;

class ServerState final : public LoopResource, public std::enable_shared_from_this<ServerState> {
 public:
  ServerState(EventLoop& loop, ProtocolFactory factory, int backlog);
  ~ServerState();

  /// A Unix server's socket file, removed by close() while it is still this one: the same
  /// device and inode as when it was bound (asyncio 3.13's cleanup_socket).
  struct SocketFile {
    std::string path;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
  };

  /// Adds a bound, listening socket (before start_serving()).
  void add_listener(Socket sock, std::optional<SocketFile> file = std::nullopt);
  void start_serving();
  bool is_serving() const noexcept { return serving_; }
  void close();
  void close_clients(bool abort);
  Coro<void> wait_closed();
  Coro<void> serve_forever();
  std::vector<SocketAddress> addresses() const;

  void attach(StreamTransport* t) { clients_.insert(t); }
  void detach(StreamTransport* t);
  void loop_closing() noexcept override;

  EventLoop& loop() noexcept { return loop_; }

 private:
  struct Listener;
  void accepted(Listener& l);
  void new_connection(int fd);
  void wake_waiters();

  EventLoop& loop_;
  ProtocolFactory factory_;
  int backlog_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_set<StreamTransport*> clients_;
  std::vector<Future<void>> waiters_;  // wait_closed() callers
  std::optional<Future<void>> serving_forever_;
  bool serving_ = false;
  bool closed_ = false;
};

}  // namespace aio::detail
