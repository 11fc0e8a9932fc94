// Connecting to one of several resolved addresses, as asyncio's create_connection does: one at
// a time, or raced with staggered starts (RFC 8305 happy eyeballs, asyncio's staggered_race),
// the addresses reordered to alternate families first (asyncio's _interleave_addrinfos).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aio/coro.hpp"
#include "aio/loop.hpp"
#include "aio/socket.hpp"

namespace aio::detail {

/// The addresses with families alternating, `first_family_count` of the first family first
/// (asyncio's interleave=N); the order within a family is kept.
std::vector<AddressInfo> interleave_addresses(const std::vector<AddressInfo>& infos,
                                              int first_family_count);

/// A socket connected to the first of `infos` that takes it (bound to `local` first when
/// given). Without `delay` the addresses are tried in turn; with one, the next attempt starts
/// when the previous one fails or `delay` seconds after it started, the first to connect wins
/// and the others are cancelled (their sockets closed). All failing: asyncio's error, the one
/// std::system_error when every attempt said the same, else "Multiple exceptions: a, b" with
/// the first one's code. Cancelling it cancels every attempt.
Coro<Socket> connect_first(EventLoop& loop, std::vector<AddressInfo> infos,
                           std::optional<SocketAddress> local, std::optional<double> delay);

}  // namespace aio::detail
