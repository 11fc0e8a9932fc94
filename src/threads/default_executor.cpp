// The loop's default executor: made on first use, shut down by shutdown_default_executor().
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "aio/detail/thread_state.hpp"
#include "aio/loop.hpp"
#include "aio/wait_for.hpp"
#include "core/loop_services.hpp"

namespace aio {

Executor& EventLoop::default_executor() {
  if (services_->executor_shutdown_called) throw RuntimeError("Executor shutdown has been called");
  if (!services_->default_executor)
    services_->default_executor = std::make_shared<ThreadPoolExecutor>();
  return *services_->default_executor;
}

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) {
  services_->default_executor = std::move(executor);
}

namespace {
// What the thread that joins the workers shares with the loop: it reports back only while the
// shutdown still waits (one that timed out has let go of the future).
struct JoinReport {
  std::mutex mutex;
  EventLoop* loop;
  bool reported = false;
};
}  // namespace

Coro<void> EventLoop::shutdown_default_executor(std::optional<Duration> timeout) {
  services_->executor_shutdown_called = true;
  if (!services_->default_executor) co_return;
  std::shared_ptr<Executor> executor = std::move(services_->default_executor);
  // Joining the workers blocks: a helper thread does it and reports back to the loop.
  Future<void> done = create_future<void>();
  detail::FutureCore<void>* core = done.core();
  core->add_ref();
  auto report = std::make_shared<JoinReport>();
  report->loop = this;
  // The joiner's report is a call the loop expects, as an executor job's result is: the loop
  // waiting for it is not deadlocked (loop_diagnostics.cpp).
  ++counters_.executor_jobs;
  std::thread joiner([report, executor, core] {
    executor->shutdown(true);
    std::lock_guard lock(report->mutex);
    if (!report->loop) return;  // the shutdown gave up waiting
    detail::this_thread.delivering_result = true;
    try {
      report->loop->call_soon_threadsafe([core, loop = report->loop] {
        --detail::LoopAccess::counters(*loop).executor_jobs;
        Future<void> f(Future<void>::adopt, core);
        core->release();
        if (!f.done()) f.set_result();
      });
      report->reported = true;
    } catch (...) {
      // The loop closed meanwhile: nobody waits any more.
    }
  });
  std::exception_ptr error;
  bool timed_out = false;
  try {
    co_await wait_for(done, timeout);
  } catch (const TimeoutError&) {
    timed_out = true;
  } catch (...) {
    error = std::current_exception();
  }
  if (timed_out) {
    {
      std::lock_guard lock(report->mutex);
      report->loop = nullptr;
      if (!report->reported) {
        core->release();
        --counters_.executor_jobs;
      }
    }
    // The workers may still report to this loop: the joiner is joined before the loop goes
    // (as Python joins a pool's threads at exit).
    services_->executor_joiner = std::move(joiner);
    std::fprintf(stderr,
                 "RuntimeWarning: The executor did not finishing joining its threads within %g "
                 "seconds.\n",
                 timeout->seconds());
    co_return;
  }
  joiner.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace aio
