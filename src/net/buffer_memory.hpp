// What an emptied connection buffer keeps (a transport's write buffer, a StreamReader's): its
// memory up to a steady size, so that ordinary messages need no allocation; what a burst grew it
// beyond that goes back to the allocator, so that a connection that once carried 64 MiB does
// not hold 64 MiB for the rest of its life.
#pragma once

#include <cstddef>
#include <string>

namespace aio::detail {

/// asyncio's default high-water mark: a buffer this size is ordinary traffic.
inline constexpr std::size_t kept_buffer_capacity = 64 * 1024;

/// Empties `buffer`, giving back its memory if a burst grew it past the steady size.
inline void empty_buffer(std::string& buffer) noexcept {
  if (buffer.capacity() > kept_buffer_capacity) {
    std::string().swap(buffer);
  } else {
    buffer.clear();
  }
}

}  // namespace aio::detail
