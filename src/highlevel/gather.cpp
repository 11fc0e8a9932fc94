// gather()'s bookkeeping: asyncio's _GatheringFuture and its _done_callback, one to one.
#include "aio/gather.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <utility>

#include "aio/errors.hpp"

namespace aio::detail {

GatherCore::GatherCore(FutureBase& outer, bool return_exceptions, std::vector<FutureBase*> children)
    : outer_(&outer), children_(std::move(children)), return_exceptions_(return_exceptions) {
  decider_.gather = this;
}

GatherCore::~GatherCore() {
  // The nodes first: their children are alive while the gather holds them.
  while (nodes_) {
    Node* n = std::exchange(nodes_, nodes_->next_node);
    if (!n->child->done()) n->child->remove_callback(n);
    delete n;
  }
  for (FutureBase* f : children_) {
    if (!f) continue;  // let go of by set_results()
    if (!f->done()) f->unwatch(*this);
    f->release();
  }
}

void GatherCore::watch() {
  for (FutureBase* f : children_) watch_or_defer(*f);
  watch_done();
}

void GatherCore::make_room(FutureBase* child) {
  try {
    children_.reserve(std::max<std::size_t>(16, 2 * children_.size()));
  } catch (...) {
    child->release();
    throw;
  }
}

void GatherCore::watch_or_defer(FutureBase& child) {
  if (!watch_pending(child)) adopted_done_ = true;
}

bool GatherCore::watch_pending(FutureBase& child) {
  if (child.done()) return false;
  if (!child.try_watch(*this)) child.add_callback(add_node(child));
  return true;
}

void GatherCore::watch_done() {
  if (children_.empty()) {
    set_results();  // gather() of nothing is done at once
    return;
  }
  if (!adopted_done_) return;
  // Children done already (futures, eager tasks) count at once, in argument order, as asyncio
  // 3.12+ does: when all of them are done, so is the gather, before gather() returns.
  // (By index: the last decision may store the results and clear children_.)
  for (std::size_t i = 0; i < children_.size(); ++i) {
    FutureBase* f = children_[i];
    if (f && f->done() && decides(*f)) decide(*f);
  }
}

GatherCore::Node* GatherCore::add_node(FutureBase& child) {
  nodes_ = new Node(*this, child, nodes_);
  return nodes_;
}

FutureBase* GatherCore::Node::waiter() const noexcept {
  return gather->outer_;
}

CallbackNode* GatherCore::as_callback(FutureBase& child) {
  return add_node(child);
}

bool GatherCore::decides(FutureBase& child) noexcept {
  const bool last = ++completed_ == children_.size();
  if (!last && (return_exceptions_ || child.succeeded())) return false;  // decides nothing
  outer_->add_ref();
  return true;
}

void GatherCore::completed(FutureBase& child) noexcept {
  if (!decides(child)) {
    // Children usually complete in argument order: take each result as it comes. (Never the
    // gather's last reference: the child is in the middle of completing.)
    if (child.succeeded() && taken_ < children_.size() && children_[taken_] == &child &&
        child.use_count() > 1 && take_early(taken_, child)) {
      children_[taken_++] = nullptr;
      child.release();
    }
    return;
  }
  child.next_callback = nullptr;
  if (decisions_) {
    last_decision_->next_callback = &child;
  } else {
    decisions_ = &child;
  }
  last_decision_ = &child;
  LoopAccess::schedule(child.loop(), &decider_);
}

FutureBase* GatherCore::pop_decision() noexcept {
  FutureBase* child = decisions_;
  decisions_ = static_cast<FutureBase*>(std::exchange(child->next_callback, nullptr));
  return child;
}

void GatherCore::Decider::run() {
  gather->decide(*gather->pop_decision());
}

void GatherCore::Decider::discard() noexcept {
  gather->pop_decision();
  gather->outer_->release();
}

bool GatherCore::Node::on_scheduled(FutureBase& from) noexcept {
  queued = gather->decides(from);
  return queued;
}

void GatherCore::Node::run() {
  queued = false;
  gather->decide(*child);
}

void GatherCore::Node::discard() noexcept {
  if (std::exchange(queued, false)) gather->outer_->release();
}

// asyncio's _done_callback, with the reference taken when the decision was queued.
void GatherCore::decide(FutureBase& child) {
  struct Release {  // may free the gather (and a node that called this)
    FutureBase* outer;
    ~Release() { outer->release(); }
  } release{outer_};
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
      if (f && !f->cancelled()) f->exception();
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
  for (FutureBase* f : children_) any = (f && f->cancel(msg)) || any;
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
