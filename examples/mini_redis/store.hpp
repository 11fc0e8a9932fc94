// mini_redis — the key space: string keys to string values, each with an optional expiry.
//
// Expiry works as in Redis: a key whose deadline has passed is deleted when it is next looked
// up (lazy), and expire_some() — which the server calls ten times a second — samples keys that
// have a deadline and deletes the expired ones (active), so keys nobody reads again do not stay
// in memory for ever. Until then they still count in size(), as they do in Redis's DBSIZE.
//
// The store reads no clock: every call that needs the time takes it. Deadlines are Unix
// milliseconds (SET ... EXAT/PXAT give them, TTL counts down to them); unix_ms() converts the
// caller's clock (the loop's monotonic time() in the server, any number in a test) to them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mini_redis {

/// Milliseconds since the Unix epoch (Redis's mstime()).
using UnixMillis = std::int64_t;

class Store {
 public:
  /// set(): the key has no deadline.
  static constexpr UnixMillis no_expiry = -1;
  /// set(): the key keeps the deadline it had (SET ... KEEPTTL, INCR).
  static constexpr UnixMillis keep_expiry = -2;

  /// `unix_time_at_zero`: the Unix time (seconds) at which the caller's clock reads 0.
  /// `seed` seeds the sampling of expire_some().
  explicit Store(double unix_time_at_zero = 0.0, std::uint64_t seed = 1)
      : unix_time_at_zero_(unix_time_at_zero), random_(seed) {}
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// The caller's clock reading `now` (seconds) as Unix milliseconds, rounded down.
  UnixMillis unix_ms(double now) const noexcept;

  /// The value of `key`, or nullptr if it does not exist; an expired key is deleted here. The
  /// pointer may be written through (INCR does) and is valid until the store next changes.
  std::string* find(std::string_view key, UnixMillis now);
  /// The deadline of a live key (no_expiry if it has none), nullopt if it does not exist.
  std::optional<UnixMillis> expiry(std::string_view key, UnixMillis now);
  /// Creates or overwrites `key`. `expires_at` is a deadline, no_expiry or keep_expiry; a
  /// deadline already past is kept until the key is next looked up or swept, as Redis 7.0 does.
  void set(std::string_view key, std::string value, UnixMillis expires_at = no_expiry);
  /// Gives an existing key a deadline (no_expiry: removes it); false if `key` does not exist.
  bool set_expiry(std::string_view key, UnixMillis expires_at);
  /// Deletes `key`; true if it existed and had not expired.
  bool erase(std::string_view key, UnixMillis now);
  void clear();

  /// Keys held, expired ones not yet reclaimed included (Redis's DBSIZE).
  std::size_t size() const noexcept { return keys_.size(); }
  /// Keys with a deadline.
  std::size_t volatile_size() const noexcept { return volatile_.size(); }

  /// Redis's active expiry cycle: test 20 random keys that have a deadline, delete those past
  /// it, and go on while more than 10% of a sample had expired, for at most `max_rounds`
  /// samples. Returns how many keys it deleted.
  std::size_t expire_some(UnixMillis now, int max_rounds = 1000);

 private:
  struct Entry {
    std::string value;
    UnixMillis expires_at = no_expiry;
    std::size_t slot = 0;  // index in volatile_ while expires_at != no_expiry
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };
  using Map = std::unordered_map<std::string, Entry, Hash, std::equal_to<>>;
  using Node = Map::value_type;

  static bool expired(const Entry& entry, UnixMillis now) noexcept {
    // Redis's keyIsExpired: a key lives through the millisecond of its deadline.
    return entry.expires_at != no_expiry && now > entry.expires_at;
  }
  void set_deadline(Node& node, UnixMillis expires_at);
  void erase(Map::iterator it);

  Map keys_;
  // The keys with a deadline, for expire_some() to sample from in O(1): map nodes do not move
  // when the map rehashes, so these pointers stay valid until their key is erased.
  std::vector<Node*> volatile_;
  double unix_time_at_zero_;
  std::mt19937_64 random_;
};

}  // namespace mini_redis
