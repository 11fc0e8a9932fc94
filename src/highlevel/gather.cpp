// gather()'s bookkeeping: asyncio's _GatheringFuture and its _done_callback, one to one.
#include "aio/gather.hpp"

#include <cstdint>
#include <exception>
#include <memory>
#include <utility>

#include "aio/errors.hpp"

namespace aio::detail {

GatherCore::GatherCore(FutureBase& outer, bool return_exceptions, std::vector<FutureBase*> children)
    : outer_(&outer),
      children_(std::move(children)),
      slots_(new Slot[children_.size() + 1]),
      return_exceptions_(return_exceptions) {
  slots_[0].gather = this;
  for (std::size_t i = 0; i < children_.size(); ++i) {
    std::construct_at(&node(i), static_cast<std::uint32_t>(i));
  }
}

GatherCore::~GatherCore() {
  for (std::size_t i = 0; i < children_.size(); ++i) {
    FutureBase* f = children_[i];
    if (!f->done()) f->remove_callback(&node(i));
    f->release();
    std::destroy_at(&node(i));
  }
}

void GatherCore::watch() {
  if (children_.empty()) {
    set_results();  // gather() of nothing is done at once
    return;
  }
  for (std::size_t i = 0; i < children_.size(); ++i) children_[i]->add_callback(&node(i));
}

GatherCore& GatherCore::Child::gather() noexcept {
  return *(reinterpret_cast<Slot*>(this) - (index + 1))->gather;
}

bool GatherCore::Child::on_scheduled(FutureBase& from) noexcept {
  GatherCore& g = gather();
  const bool last = ++g.completed_ == g.children_.size();
  if (!last && (g.return_exceptions_ || from.succeeded())) return false;  // decides nothing
  queued = true;
  g.outer_->add_ref();
  return true;
}

void GatherCore::Child::run() {
  queued = false;
  GatherCore& g = gather();
  struct Release {  // the reference taken when queued: may free the gather (and this node)
    FutureBase* outer;
    ~Release() { outer->release(); }
  } release{g.outer_};
  g.child_done(*this);
}

void GatherCore::Child::discard() noexcept {
  if (std::exchange(queued, false)) gather().outer_->release();
}

void GatherCore::child_done(Child& done) {
  FutureBase& child = *children_[done.index];
  if (outer_->done()) {
    if (!child.cancelled()) child.exception();  // mark it retrieved: the gather reported first
    return;
  }
  if (!return_exceptions_ && !child.succeeded()) {
    if (child.cancelled()) {
      outer_->set_exception(child.cancelled_error());
      return;
    }
    if (auto e = child.exception()) {
      outer_->set_exception(e);
      return;
    }
  }
  if (completed_ < children_.size()) return;
  if (cancel_requested_) {
    // The gather was cancelled: that wins over return_exceptions (bpo-32684), and the error is
    // a CancelledError even when the last child ended otherwise (it failed, or caught the
    // cancellation and returned). asyncio collects every outcome first, so no failed child is
    // reported as never retrieved.
    for (FutureBase* f : children_) {
      if (!f->cancelled()) f->exception();
    }
    outer_->set_exception(child.cancelled()
                              ? child.cancelled_error()
                              : std::make_exception_ptr(CancelledError(child.cancel_message())));
    return;
  }
  set_results();
}

bool GatherCore::cancel_children(std::string_view msg) {
  bool any = false;
  for (FutureBase* f : children_) any = f->cancel(msg) || any;
  if (any) cancel_requested_ = true;
  return any;
}

void LoopOfFutures::add_future(const FutureBase& f) {
  if (!loop_) {
    loop_ = &f.loop();
  } else if (loop_ != &f.loop()) {
    throw std::invalid_argument("gather(): all futures must belong to the same event loop");
  }
}

EventLoop& LoopOfFutures::loop() const {
  return loop_ ? *loop_ : running_or_current_loop();
}

}  // namespace aio::detail
