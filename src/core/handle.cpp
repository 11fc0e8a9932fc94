// call_soon/call_later handles: run unless cancelled; a cancelled timer leaves the heap now.
#include "aio/handle.hpp"

#include "aio/loop.hpp"

namespace aio::detail {

void HandleState::run() {
  struct Release {  // the queue's reference, even when the callback throws
    HandleState* h;
    ~Release() { h->release(); }
  } release{this};
  if (cancelled()) return;
  CallbackContextScope context;
  invoke();
}

void HandleState::cancel_handle() noexcept {
  cancelled_.store(true, std::memory_order_relaxed);
  if (in_heap()) {
    LoopAccess::remove_timer(*loop_, this);
    release();  // the heap's reference
  }
}

}  // namespace aio::detail
