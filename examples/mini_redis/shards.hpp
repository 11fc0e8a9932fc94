// mini_redis --threads N: one key space partitioned over N loops, each on its own thread.
//
// Each key belongs to one loop (a hash of the key, modulo N), whose Store holds it and alone
// touches it: no locks. Connections are accepted on every loop (aio::ServerGroup); a command
// on a key another loop owns is sent there with aio::run_on() and its reply comes back, so
// that what a client sees is exactly what one loop would answer. Consecutive commands for the
// same loop go in one call; DEL and EXISTS with keys on several loops ask them all at once
// (aio::gather) and add up their counts; DBSIZE and FLUSHALL go to every loop. Commands that
// touch no key (PING, CLIENT, CONFIG...) run where the connection is.
#pragma once

#include <aio/aio.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "resp.hpp"
#include "store.hpp"

namespace mini_redis {

class Shards {
 public:
  /// `stores[i]` lives on `loops[i]`, and is used only there.
  Shards(std::span<aio::EventLoop* const> loops, std::vector<std::shared_ptr<Store>> stores)
      : loops_(loops.begin(), loops.end()), stores_(std::move(stores)) {}

  std::size_t size() const noexcept { return loops_.size(); }
  /// The loop that owns `key`.
  std::size_t owner(std::string_view key) const noexcept;
  /// The shard whose loop runs on this thread.
  std::size_t here() const;
  Store& store(std::size_t shard) const noexcept { return *stores_[shard]; }

  /// Runs a connection's commands in order (on its loop), appending their replies to `out`;
  /// stops after QUIT.
  aio::Coro<void> execute(Session& session, std::vector<Command>& commands, std::string& out);

 private:
  aio::Coro<std::string> on_shard(std::size_t shard, std::vector<Command> commands);
  aio::Coro<void> across_shards(const Command& command, std::string& out);

  std::vector<aio::EventLoop*> loops_;
  std::vector<std::shared_ptr<Store>> stores_;
};

}  // namespace mini_redis
