// The loop's default executor: made on first use, shut down by shutdown_default_executor().
#include <thread>

#include "aio/loop.hpp"

namespace aio {

Executor& EventLoop::default_executor() {
  if (executor_shutdown_called_) throw RuntimeError("Executor shutdown has been called");
  if (!default_executor_) default_executor_ = std::make_shared<ThreadPoolExecutor>();
  return *default_executor_;
}

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) {
  default_executor_ = std::move(executor);
}

Coro<void> EventLoop::shutdown_default_executor() {
  executor_shutdown_called_ = true;
  if (!default_executor_) co_return;
  std::shared_ptr<Executor> executor = std::move(default_executor_);
  // Joining the workers blocks: a helper thread does it and reports back to the loop.
  Future<void> done = create_future<void>();
  detail::FutureCore<void>* core = done.core();
  core->add_ref();
  std::thread joiner([this, executor, core] {
    executor->shutdown(true);
    try {
      call_soon_threadsafe([core] {
        Future<void> f(Future<void>::adopt, core);
        core->release();
        if (!f.done()) f.set_result();
      });
    } catch (...) {
      // The loop closed meanwhile: nobody waits any more.
    }
  });
  std::exception_ptr error;
  try {
    co_await done;
  } catch (...) {
    error = std::current_exception();
  }
  joiner.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace aio
