// gather()'s bookkeeping: asyncio's _GatheringFuture and its _done_callback, one to one.
#include "aio/gather.hpp"

#include <exception>
#include <utility>

#include "aio/errors.hpp"

namespace aio::detail {

GatherCore::GatherCore(FutureBase& outer, bool return_exceptions, std::vector<FutureBase*> children)
    : outer_(&outer),
      children_(new Child[children.size()]),
      count_(children.size()),
      return_exceptions_(return_exceptions) {
  for (std::size_t i = 0; i < count_; ++i) {
    children_[i].gather = this;
    children_[i].future = children[i];
  }
}

GatherCore::~GatherCore() {
  for (std::size_t i = 0; i < count_; ++i) {
    Child& c = children_[i];
    if (!c.future->done()) c.future->remove_callback(&c);
    c.future->release();
  }
}

void GatherCore::watch() {
  if (count_ == 0) {
    set_results();  // gather() of nothing is done at once
    return;
  }
  for (std::size_t i = 0; i < count_; ++i) children_[i].future->add_callback(&children_[i]);
}

bool GatherCore::Child::on_scheduled(FutureBase&) noexcept {
  GatherCore& g = *gather;
  const bool last = ++g.completed_ == g.count_;
  if (!last && (g.return_exceptions_ || future->succeeded())) return false;  // decides nothing
  queued = true;
  g.outer_->add_ref();
  return true;
}

void GatherCore::Child::run() {
  queued = false;
  struct Release {  // the reference taken when queued: may free the gather (and this node)
    FutureBase* outer;
    ~Release() { outer->release(); }
  } release{gather->outer_};
  gather->child_done(*this);
}

void GatherCore::Child::discard() noexcept {
  if (std::exchange(queued, false)) gather->outer_->release();
}

void GatherCore::child_done(Child& done) {
  FutureBase& child = *done.future;
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
  if (completed_ < count_) return;
  if (cancel_requested_) {
    // The gather was cancelled: that wins over return_exceptions (bpo-32684), and the error is
    // a CancelledError even when the last child ended otherwise (it failed, or caught the
    // cancellation and returned). asyncio collects every outcome first, so no failed child is
    // reported as never retrieved.
    for (std::size_t i = 0; i < count_; ++i) {
      if (!children_[i].future->cancelled()) children_[i].future->exception();
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
  for (std::size_t i = 0; i < count_; ++i) any = children_[i].future->cancel(msg) || any;
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
