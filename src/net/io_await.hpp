// co_await on one I/O operation from a task: the operation lives in the awaiting frame, so an
// awaited recv or send allocates nothing. The system call is tried first (a send the kernel
// takes at once never suspends); otherwise the task suspends with the operation as its cancel
// hook: cancelling the task withdraws the operation and wakes the task with CancelledError.
#pragma once

#include <coroutine>
#include <cstdint>
#include <string_view>

#include "aio/detail/thread_state.hpp"
#include "aio/loop.hpp"
#include "core/loop_internals.hpp"
#include "io/backend.hpp"
#include "io/io_op.hpp"

namespace aio::detail {

class IoAwait final : public IoOp {
 public:
  explicit IoAwait(EventLoop& loop) noexcept : backend_(&LoopInternals::backend(loop)) {}
  IoAwait(const IoAwait&) = delete;
  IoAwait& operator=(const IoAwait&) = delete;
  ~IoAwait() {
    if (pending) backend_->cancel(*this);  // the frame died while waiting (loop closed)
  }

  bool await_ready() { return backend_->start(*this); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h, std::uint32_t line = __builtin_LINE()) {
    note_await_line(h, line);
    task_ = &FutureBase::current();
    task_->suspend(h, this);
    task_->after_suspend();
  }
  /// The operation's result (bytes, descriptor, 0) or -errno.
  std::int64_t await_resume() {
    if (task_) {
      task_->check_cancel();
      if (cancelled_) task_->throw_cancelled();
    }
    return result;
  }

  // Completed: the task takes its next step now (this is already a turn of the loop).
  void run() override { task_->run(); }
  bool cancel(std::string_view msg) override {
    if (!backend_->cancel(*this)) return false;
    cancelled_ = true;
    task_->note_cancel_message(msg);
    task_->schedule();
    return true;
  }

 private:
  Backend* backend_;
  FutureBase* task_ = nullptr;
  bool cancelled_ = false;
};

}  // namespace aio::detail
