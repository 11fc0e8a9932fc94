// The routing of mini_redis --threads N (shards.hpp).
#include "shards.hpp"

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>

namespace mini_redis {

namespace {

enum class Route { here, key, keys, every };

bool is(std::string_view word, std::string_view name) {
  if (word.size() != name.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != name[i]) return false;
  }
  return true;
}

// Where a command runs. A command with too few arguments runs here: its error is the same
// wherever it runs.
Route route(const Command& command) {
  const std::string_view name = command[0];
  if (command.size() >= 2) {
    for (std::string_view single :
         {"get", "set", "incr", "decr", "incrby", "decrby", "expire", "pexpire", "ttl", "pttl"}) {
      if (is(name, single)) return Route::key;
    }
    if (is(name, "del") || is(name, "exists")) return Route::keys;
  }
  if ((is(name, "dbsize") && command.size() == 1) || is(name, "flushall")) return Route::every;
  return Route::here;
}

// On the owning loop: the commands against its store, their replies concatenated.
aio::Coro<std::string> run_commands(Store& store, std::vector<Command> commands) {
  Session scratch;  // key commands do not touch the session
  std::string out;
  const double now = aio::get_running_loop().time();
  for (const Command& command : commands) execute(store, scratch, command, now, out);
  co_return out;
}

// ":N\r\n" -> N (a count from DEL, EXISTS or DBSIZE).
std::int64_t integer_reply(const std::string& reply) {
  if (reply.size() < 4 || reply[0] != ':') throw std::runtime_error("not an integer reply");
  return std::stoll(reply.substr(1));
}

}  // namespace

std::size_t Shards::owner(std::string_view key) const noexcept {
  return std::hash<std::string_view>{}(key) % loops_.size();
}

std::size_t Shards::here() const {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    if (&aio::get_running_loop() == loops_[i]) return i;
  }
  throw std::logic_error("mini_redis: a connection on a loop outside the shards");
}

aio::Coro<std::string> Shards::on_shard(std::size_t shard, std::vector<Command> commands) {
  if (shard == here()) co_return co_await run_commands(*stores_[shard], std::move(commands));
  co_return co_await aio::run_on(*loops_[shard],
                                 run_commands(*stores_[shard], std::move(commands)));
}

aio::Coro<void> Shards::across_shards(const Command& command, std::string& out) {
  const bool sum = !is(command[0], "flushall");
  std::vector<std::vector<Command>> per_shard(loops_.size());
  if (route(command) == Route::keys) {  // DEL, EXISTS: each loop gets its keys
    for (std::size_t k = 1; k < command.size(); ++k) {
      std::vector<Command>& mine = per_shard[owner(command[k])];
      if (mine.empty()) mine.push_back({command[0]});
      mine[0].push_back(command[k]);
    }
  } else {  // DBSIZE, FLUSHALL: every loop
    for (auto& mine : per_shard) mine.push_back(command);
  }
  std::vector<aio::Coro<std::string>> calls;
  for (std::size_t shard = 0; shard < per_shard.size(); ++shard) {
    if (!per_shard[shard].empty()) calls.push_back(on_shard(shard, std::move(per_shard[shard])));
  }
  std::vector<std::string> replies = co_await aio::gather(std::move(calls));
  if (!sum) {
    out += replies.front();  // FLUSHALL: every loop answers alike (OK, or the same error)
    co_return;
  }
  std::int64_t total = 0;
  for (const std::string& reply : replies) total += integer_reply(reply);
  resp::integer(out, total);
}

aio::Coro<void> Shards::execute(Session& session, std::vector<Command>& commands,
                                std::string& out) {
  const std::size_t me = here();
  const double now = aio::get_running_loop().time();
  std::size_t i = 0;
  while (i < commands.size() && !session.quit) {
    const Command& command = commands[i];
    const Route where = route(command);
    if (where == Route::keys || where == Route::every) {
      co_await across_shards(command, out);
      ++i;
      continue;
    }
    const std::size_t shard = where == Route::key ? owner(command[1]) : me;
    if (shard == me) {
      mini_redis::execute(*stores_[me], session, command, now, out);
      ++i;
      continue;
    }
    // A run of commands for the same other loop: one call there.
    std::vector<Command> run;
    while (i < commands.size() && route(commands[i]) == Route::key &&
           owner(commands[i][1]) == shard) {
      run.push_back(std::move(commands[i]));
      ++i;
    }
    out += co_await on_shard(shard, std::move(run));
  }
}

}  // namespace mini_redis
