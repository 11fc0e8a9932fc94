// aio/detail/frame_allocator.hpp — recycles coroutine frames per thread.
//
// Every task and every Coro is one frame allocation; programs create and finish them at a high
// rate with a handful of sizes. Freed frames go to a per-thread free list for their 64-byte size
// class and the next frame of that class reuses one: no malloc on the steady-state path. Each
// list keeps at most `max_cached_bytes` per class, so the cache stays bounded; frames of more
// than `max_cached_size` bytes go straight to operator new/delete. A frame freed on another
// thread simply joins that thread's cache.
#pragma once

#include <cstddef>
#include <new>

namespace aio::detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitizing_addresses = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool sanitizing_addresses = true;
#else
inline constexpr bool sanitizing_addresses = false;
#endif
#else
inline constexpr bool sanitizing_addresses = false;
#endif

class FrameCache {
 public:
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t max_cached_size = 1024;
  static constexpr std::size_t classes = max_cached_size / granule;
  // Under AddressSanitizer nothing is cached, so a use after free is still caught.
  static constexpr std::size_t max_cached_bytes = sanitizing_addresses ? 0 : 4u << 20;

  FrameCache() = default;
  FrameCache(const FrameCache&) = delete;
  FrameCache& operator=(const FrameCache&) = delete;
  ~FrameCache();

  void* allocate(std::size_t size) {
    const std::size_t c = (size - 1) / granule;
    if (c < classes && lists_[c].head) {
      Block* b = lists_[c].head;
      lists_[c].head = b->next;
      --lists_[c].count;
      return b;
    }
    return ::operator new(c < classes ? (c + 1) * granule : size);
  }

  void free(void* p, std::size_t size) noexcept {
    const std::size_t c = (size - 1) / granule;
    if (c < classes && lists_[c].count < max_cached_bytes / ((c + 1) * granule)) {
      Block* b = static_cast<Block*>(p);
      b->next = lists_[c].head;
      lists_[c].head = b;
      ++lists_[c].count;
      return;
    }
    ::operator delete(p);
  }

 private:
  struct Block {
    Block* next;
  };
  struct List {
    Block* head = nullptr;
    std::size_t count = 0;
  };
  List lists_[classes];
};

inline thread_local FrameCache frame_cache;

inline void* allocate_frame(std::size_t size) {
  return frame_cache.allocate(size);
}
inline void free_frame(void* p, std::size_t size) noexcept {
  frame_cache.free(p, size);
}

}  // namespace aio::detail
