// mini_redis — how much memory a connection keeps between commands. Its request and reply
// buffers are reused, so ordinary commands allocate nothing; but one large value (a SET or GET of
// 64 MiB) would otherwise leave each connection that ever carried one holding that much for as
// long as it stays open. Past `kept_capacity` (asyncio's 64 KiB high-water mark, the size of one
// read) an emptied buffer gives its memory back.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mini_redis {

inline constexpr std::size_t kept_capacity = 64 * 1024;

/// Empties `buffer`, freeing its memory if a burst grew it past kept_capacity.
inline void empty_buffer(std::string& buffer) {
  if (buffer.capacity() > kept_capacity) {
    std::string().swap(buffer);
  } else {
    buffer.clear();
  }
}

/// Empties a command's arguments (freeing large ones), and the array itself if a command with
/// very many arguments grew it past kept_capacity.
template <class T>
void empty_buffer(std::vector<T>& items) {
  if (items.capacity() * sizeof(T) > kept_capacity) {
    std::vector<T>().swap(items);
  } else {
    items.clear();
  }
}

}  // namespace mini_redis
