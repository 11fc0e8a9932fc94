// The frame arena's slow paths: new slabs, slabs that empty, frames freed across threads.
//
// Address space is reserved in 256 MiB regions (MAP_NORESERVE: no memory is committed) and cut
// into 64 KiB slabs aligned to their size, so a frame finds its slab by masking its address.
// Pages fault in as frames are first used. An emptied slab is kept for reuse; beyond
// `max_warm_spares` its pages go back to the kernel (MADV_DONTNEED) while its address range
// stays reserved for the next slab.
//
// Tried and left out: populating a new slab in one call (MADV_POPULATE_WRITE) cost as much as
// the faults it saved; huge pages (MADV_HUGEPAGE) made a burst of a million tasks twice as fast,
// but a fault that has to compact memory first stalled for most of a second.
#include "aio/detail/frame_allocator.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace aio::detail {

namespace {

constexpr std::size_t region_size = std::size_t{256} << 20;
constexpr std::size_t max_warm_spares = 16;  // 1 MiB of empty slabs kept populated
constexpr std::size_t header_size = (sizeof(Slab) + 15) & ~std::size_t{15};

void unlink(Slab*& head, Slab* s) noexcept {
  if (s->prev) {
    s->prev->next = s->next;
  } else {
    head = s->next;
  }
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = nullptr;
}

void push(Slab*& head, Slab* s) noexcept {
  s->prev = nullptr;
  s->next = head;
  if (head) head->prev = s;
  head = s;
}

// Moves frames freed by other threads to the owner's free list.
void drain_remote(Slab* s) noexcept {
  FreeFrame* f = s->remote.exchange(nullptr, std::memory_order_acquire);
  while (f) {
    FreeFrame* next = f->next;
    f->next = s->free;
    s->free = f;
    --s->live;
    f = next;
  }
}

}  // namespace

// Lives in thread-local storage; when the thread ends it gives the arena back, unless frames
// from it are still alive (a handle that outlived its thread): then the arena stays, so those
// frames can still be freed, from any thread.
struct FrameArenaOwner {
  FrameArena* arena = nullptr;
  ~FrameArenaOwner() {
    if (!arena) return;
    FrameArena::current_ = nullptr;
    if (arena->live_slabs_ == 0) delete arena;  // its address space stays reserved (no memory)
  }
};

namespace {
thread_local FrameArenaOwner arena_owner;
}  // namespace

FrameArena& FrameArena::make_mine() {
  auto* arena = new FrameArena();
  arena_owner.arena = arena;
  current_ = arena;
  return *arena;
}

void* FrameArena::allocate_slow(std::size_t c) {
  if (remote_pending_.exchange(false, std::memory_order_acquire)) drain_full();
  Slab* s = active_[c];
  if (s) drain_remote(s);
  if (!s || (!s->free && s->bump + s->frame_size > s->end)) {
    if (s) {  // full: it rejoins the free list when a frame comes back
      s->listed = false;
      push(full_[c], s);
    }
    s = with_free_[c];
    if (s) {
      unlink(with_free_[c], s);
      drain_remote(s);
    } else {
      s = new_slab(c);
    }
    active_[c] = s;
    s->listed = true;
  }
  return allocate(c * granule + 1);
}

Slab* FrameArena::new_slab(std::size_t c) {
  Slab* s = nullptr;
  if (warm_) {
    s = warm_;
    unlink(warm_, s);
    --warm_count_;
  } else if (cold_) {
    s = cold_;
    unlink(cold_, s);
  } else {
    if (reserve_next_ == reserve_end_) {
      void* region = ::mmap(nullptr, region_size + Slab::size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (region == MAP_FAILED) throw std::bad_alloc();
      const auto base =
          (reinterpret_cast<std::uintptr_t>(region) + Slab::size - 1) & ~(Slab::size - 1);
      reserve_next_ = reinterpret_cast<char*>(base);
      reserve_end_ = reserve_next_ + region_size;
    }
    s = reinterpret_cast<Slab*>(reserve_next_);
    reserve_next_ += Slab::size;
  }
  new (s) Slab{};
  s->owner = this;
  s->frame_size = static_cast<std::uint32_t>((c + 1) * granule);
  s->size_class = static_cast<std::uint16_t>(c);
  s->bump = reinterpret_cast<char*>(s) + header_size;
  s->end = reinterpret_cast<char*>(s) + Slab::size;
  ++live_slabs_;
  return s;
}

// Frames other threads freed into full slabs: bring them back so the slabs serve again.
void FrameArena::drain_full() noexcept {
  for (std::size_t k = 0; k < classes; ++k) {
    Slab* s = full_[k];
    while (s) {
      Slab* next = s->next;
      drain_remote(s);
      if (s->free) freed_into(s);
      s = next;
    }
  }
}

// A frame came back to a slab that was full, or the slab is now empty.
void FrameArena::freed_into(Slab* s) noexcept {
  const std::size_t c = s->size_class;
  if (s == active_[c]) return;
  if (!s->listed) {
    unlink(full_[c], s);
    push(with_free_[c], s);
    s->listed = true;
  }
  if (s->live != 0) return;
  unlink(with_free_[c], s);
  s->listed = false;
  --live_slabs_;
  if (warm_count_ < max_warm_spares) {
    ++warm_count_;
    push(warm_, s);
  } else {
    ::madvise(s, Slab::size, MADV_DONTNEED);
    push(cold_, s);
  }
}

void FrameArena::free_remote(Slab* s, void* p) noexcept {
  auto* f = static_cast<FreeFrame*>(p);
  FreeFrame* head = s->remote.load(std::memory_order_relaxed);
  do {
    f->next = head;
  } while (!s->remote.compare_exchange_weak(head, f, std::memory_order_release,
                                            std::memory_order_relaxed));
  s->owner->remote_pending_.store(true, std::memory_order_release);
}

}  // namespace aio::detail
