// gather()'s bookkeeping: asyncio's _GatheringFuture and its _done_callback, one to one.
#include "aio/gather.hpp"

#include <utility>

namespace aio::detail {

GatherCore::~GatherCore() {
  for (std::size_t i = 0; i < children_.size(); ++i) {
    if (nodes_ && !children_[i]->done()) children_[i]->remove_callback(&nodes_[i]);
    children_[i]->release();
  }
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
    children_[i]->add_callback(&nodes_[i]);
  }
}

void GatherCore::ChildDone::on_scheduled(FutureBase&) noexcept {
  queued = true;
  gather->outer_->add_ref();
}

void GatherCore::ChildDone::run() {
  queued = false;
  struct Release {  // the reference taken when queued: may free the gather (and this node)
    FutureBase* outer;
    ~Release() { outer->release(); }
  } release{gather->outer_};
  gather->child_done(index);
}

void GatherCore::ChildDone::discard() noexcept {
  if (std::exchange(queued, false)) gather->outer_->release();
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
