// Which loops are alive, so that a future outliving its loop can tell before reporting to it.
#pragma once

namespace aio {
class EventLoop;
struct ExceptionContext;
}  // namespace aio

namespace aio::detail {

void register_loop(EventLoop* loop);
void unregister_loop(EventLoop* loop);
/// Whether `loop` still exists (not destroyed; it may be closed).
bool loop_alive(const EventLoop* loop);
/// What the default exception handler prints (also used once the loop is gone).
void log_to_stderr(const ExceptionContext& context) noexcept;

}  // namespace aio::detail
