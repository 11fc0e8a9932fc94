// mini_redis — the commands: each runs against the Store and appends its RESP2 reply, with the
// error replies Redis 7.0 sends, word for word.
//
//   PING [message]   ECHO message        GET key            SET key value [NX|XX] [GET]
//   DEL key...       EXISTS key...       INCR/DECR key      [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]
//   INCRBY/DECRBY key n                  EXPIRE/PEXPIRE key n [NX|XX|GT|LT]
//   TTL/PTTL key     DBSIZE              FLUSHALL [ASYNC|SYNC]              QUIT
//   CONFIG GET pattern...   COMMAND [COUNT|DOCS]   CLIENT SETNAME/GETNAME/ID/SETINFO
//
// Anything else (HELLO among them, so clients stay on RESP2) is an unknown command. There is one
// database of strings: no SELECT, no other types, no persistence (CONFIG GET save is "",
// appendonly "no"). COMMAND and COMMAND DOCS answer an empty array (no documentation to give).
#pragma once

#include <cstdint>
#include <string>

#include "resp.hpp"
#include "store.hpp"

namespace mini_redis {

/// What one connection remembers between its commands.
struct Session {
  std::int64_t id = 0;  ///< CLIENT ID
  std::string name;     ///< CLIENT SETNAME
  bool quit = false;    ///< QUIT ran: send the replies so far, then close the connection
};

/// Runs `command` (non-empty) and appends its reply to `out`. `now` is the caller's clock in
/// seconds (the loop's time()); the store turns it into Unix time.
void execute(Store& store, Session& session, const Command& command, double now, std::string& out);

/// Redis's stringmatchlen(): a glob pattern (* ? [a-z] [^x] \c) against `text`, ignoring case
/// when `nocase`; what CONFIG GET matches parameter names with.
bool glob_match(std::string_view pattern, std::string_view text, bool nocase);

}  // namespace mini_redis
