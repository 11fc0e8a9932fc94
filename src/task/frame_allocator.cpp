// The frame cache gives its blocks back when its thread ends.
#include "aio/detail/frame_allocator.hpp"

namespace aio::detail {

FrameCache::~FrameCache() {
  for (List& list : lists_) {
    while (Block* b = list.head) {
      list.head = b->next;
      ::operator delete(b);
    }
  }
}

}  // namespace aio::detail
