// The key space and its expiry; store.hpp describes them.
#include "store.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace mini_redis {

UnixMillis Store::unix_ms(double now) const noexcept {
  return static_cast<UnixMillis>(std::floor((now + unix_time_at_zero_) * 1000.0));
}

std::string* Store::find(std::string_view key, UnixMillis now) {
  const auto it = keys_.find(key);
  if (it == keys_.end()) return nullptr;
  if (expired(it->second, now)) {
    erase(it);
    return nullptr;
  }
  return &it->second.value;
}

std::optional<UnixMillis> Store::expiry(std::string_view key, UnixMillis now) {
  if (find(key, now) == nullptr) return std::nullopt;
  return keys_.find(key)->second.expires_at;
}

void Store::set(std::string_view key, std::string value, UnixMillis expires_at) {
  auto it = keys_.find(key);
  if (it == keys_.end()) it = keys_.emplace(std::string(key), Entry{}).first;
  it->second.value = std::move(value);
  if (expires_at != keep_expiry) set_deadline(*it, expires_at);
}

bool Store::set_expiry(std::string_view key, UnixMillis expires_at) {
  const auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  set_deadline(*it, expires_at);
  return true;
}

bool Store::erase(std::string_view key, UnixMillis now) {
  const auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  const bool live = !expired(it->second, now);
  erase(it);
  return live;
}

void Store::clear() {
  volatile_.clear();
  keys_.clear();
}

std::size_t Store::expire_some(UnixMillis now, int max_rounds) {
  constexpr std::size_t keys_per_round = 20;  // ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP
  std::size_t deleted = 0;
  for (int round = 0; round < max_rounds && !volatile_.empty(); ++round) {
    const std::size_t sampled = std::min(keys_per_round, volatile_.size());
    std::size_t expired_here = 0;
    for (std::size_t k = 0; k < sampled && !volatile_.empty(); ++k) {
      std::uniform_int_distribution<std::size_t> pick(0, volatile_.size() - 1);
      Node* node = volatile_[pick(random_)];
      if (expired(node->second, now)) {
        erase(keys_.find(node->first));
        ++expired_here;
      }
    }
    deleted += expired_here;
    if (expired_here * 10 <= sampled) break;  // at most 10% stale: good enough for now
  }
  return deleted;
}

void Store::set_deadline(Node& node, UnixMillis expires_at) {
  Entry& entry = node.second;
  const bool was_volatile = entry.expires_at != no_expiry;
  const bool is_volatile = expires_at != no_expiry;
  entry.expires_at = expires_at;
  if (is_volatile && !was_volatile) {
    entry.slot = volatile_.size();
    volatile_.push_back(&node);
  } else if (was_volatile && !is_volatile) {
    // Move the last key with a deadline into the freed slot.
    Node* last = volatile_.back();
    volatile_[entry.slot] = last;
    last->second.slot = entry.slot;
    volatile_.pop_back();
  }
}

void Store::erase(Map::iterator it) {
  set_deadline(*it, no_expiry);
  keys_.erase(it);
}

}  // namespace mini_redis
