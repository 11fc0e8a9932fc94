// gather()'s bookkeeping: asyncio's _GatheringFuture and its _done_callback, one to one.
#include "aio/gather.hpp"

namespace aio::detail {

GatherCore::~GatherCore() {
  for (FutureBase* child : children_) child->release();
}

void GatherCore::watch(std::vector<FutureBase*> children) {
  children_ = std::move(children);
  for (FutureBase* child : children_) child->add_ref();
  if (children_.empty()) {
    set_results();  // gather() of nothing is done at once
    return;
  }
  nodes_ = std::make_unique<ChildDone[]>(children_.size());
  for (std::size_t i = 0; i < children_.size(); ++i) {
    nodes_[i].gather = this;
    nodes_[i].index = i;
    outer_->add_ref();  // each registered node keeps the gather alive until it runs
    children_[i]->add_callback(&nodes_[i]);
  }
}

void GatherCore::ChildDone::run() {
  FutureBase* outer = gather->outer_;
  gather->child_done(index);
  outer->release();
}

void GatherCore::ChildDone::discard() noexcept {
  gather->outer_->release();
}

void GatherCore::child_done(std::size_t index) {
  FutureBase& child = *children_[index];
  ++finished_;
  if (outer_->done()) {
    if (!child.cancelled()) child.exception();  // mark it retrieved: the gather reported first
    return;
  }
  if (!return_exceptions_) {
    if (child.cancelled()) {
      outer_->set_exception(child.cancelled_error());
      return;
    }
    if (auto e = child.exception()) {
      outer_->set_exception(e);
      return;
    }
  }
  if (finished_ < children_.size()) return;
  if (cancel_requested_) {
    // The gather was cancelled: that wins over return_exceptions (bpo-32684).
    outer_->set_exception(child.cancelled_error());
    return;
  }
  set_results();
}

bool GatherCore::cancel_children(std::string_view msg) {
  bool any = false;
  for (FutureBase* child : children_) any = child->cancel(msg) || any;
  if (any) cancel_requested_ = true;
  return any;
}

EventLoop& gather_loop(const std::vector<const FutureBase*>& futures) {
  if (futures.empty()) return running_or_current_loop();
  EventLoop& loop = futures.front()->loop();
  for (const FutureBase* f : futures) {
    if (&f->loop() != &loop) {
      throw std::invalid_argument("gather(): all futures must belong to the same event loop");
    }
  }
  return loop;
}

}  // namespace aio::detail
