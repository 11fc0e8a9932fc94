// aio/detail/frame_allocator.hpp — where coroutine frames (and so tasks) live.
//
// Every task and every Coro is one frame allocation, created and freed at a high rate in a
// handful of sizes. Each thread has a FrameArena of slabs: 64 KiB blocks, each cut into frames
// of one 16-byte size class. Allocating pops a slab's free list or bumps its pointer (a few
// instructions, no malloc header, neighbouring frames on the same pages); freeing pushes onto
// the frame's own slab, found by masking the address. A slab whose frames are all free goes
// back to the arena, which keeps a few for reuse and returns the rest to the kernel, so memory
// follows the live frames rather than their peak.
//
// A frame freed on another thread goes to its slab's lock-free remote list, which the owner
// drains. Frames over 1 KiB, and every frame under AddressSanitizer (so that it still sees a
// use after free), use operator new.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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

class FrameArena;

struct FreeFrame {
  FreeFrame* next;
};

/// A 64 KiB block of frames of one size; this header sits at its (aligned) start.
struct Slab {
  static constexpr std::size_t size = 64 * 1024;
  static Slab* of(void* frame) noexcept {
    return reinterpret_cast<Slab*>(reinterpret_cast<std::uintptr_t>(frame) & ~(size - 1));
  }

  FrameArena* owner;
  Slab* prev;  // in one of the owner's lists (with free frames, full, or spare)
  Slab* next;
  FreeFrame* free;  // frames freed by the owner
  char* bump;       // never used yet: from here to `end`
  char* end;
  std::atomic<FreeFrame*> remote;  // frames freed by other threads
  std::uint32_t frame_size;
  std::uint32_t live;  // frames handed out and not freed by the owner
  std::uint16_t size_class;
  bool listed;  // active, or in the owner's list of slabs with free frames (else: full)
};

class FrameArena {
 public:
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t max_frame = 1024;
  static constexpr std::size_t classes = max_frame / granule;

  /// The calling thread's arena (made on first use).
  static FrameArena& mine() {
    FrameArena* a = current_;
    return a ? *a : make_mine();
  }

  void* allocate(std::size_t size) {
    const std::size_t c = (size - 1) / granule;
    if (c >= classes) return ::operator new(size);
    if (Slab* s = active_[c]) {
      if (FreeFrame* f = s->free) {
        s->free = f->next;
        ++s->live;
        return f;
      }
      if (s->bump + s->frame_size <= s->end) {
        void* p = s->bump;
        s->bump += s->frame_size;
        ++s->live;
        return p;
      }
    }
    return allocate_slow(c);
  }

  static void deallocate(void* p, std::size_t size) noexcept {
    if ((size - 1) / granule >= classes) {
      ::operator delete(p);
      return;
    }
    Slab* s = Slab::of(p);
    if (s->owner == current_) {
      auto* f = static_cast<FreeFrame*>(p);
      f->next = s->free;
      s->free = f;
      if (--s->live == 0 || !s->listed) s->owner->freed_into(s);
      return;
    }
    free_remote(s, p);
  }

  FrameArena(const FrameArena&) = delete;
  FrameArena& operator=(const FrameArena&) = delete;

 private:
  FrameArena() = default;
  ~FrameArena() = default;
  static FrameArena& make_mine();
  void* allocate_slow(std::size_t size_class);
  Slab* new_slab(std::size_t size_class);
  void drain_full() noexcept;
  void freed_into(Slab* s) noexcept;
  static void free_remote(Slab* s, void* p) noexcept;
  friend struct FrameArenaOwner;

  static inline thread_local FrameArena* current_ = nullptr;
  Slab* active_[classes] = {};     // the slab each class allocates from
  Slab* with_free_[classes] = {};  // other slabs of the class with free frames ("listed")
  Slab* full_[classes] = {};       // slabs with no free frame
  Slab* warm_ = nullptr;           // empty slabs kept populated, for reuse
  Slab* cold_ = nullptr;           // empty slabs whose pages went back to the kernel
  std::size_t warm_count_ = 0;
  std::size_t live_slabs_ = 0;
  char* reserve_next_ = nullptr;  // address space reserved and not yet cut into slabs
  char* reserve_end_ = nullptr;
  std::atomic<bool> remote_pending_{false};  // another thread freed into one of our slabs
};

inline void* allocate_frame(std::size_t size) {
  if constexpr (sanitizing_addresses) return ::operator new(size);
  return FrameArena::mine().allocate(size);
}

inline void free_frame(void* p, std::size_t size) noexcept {
  if constexpr (sanitizing_addresses) {
    ::operator delete(p);
    return;
  }
  FrameArena::deallocate(p, size);
}

}  // namespace aio::detail
