// Which loops are alive, so that a future outliving its loop can tell before reporting to it.
#pragma once

namespace aio {
class EventLoop;
struct ExceptionContext;
}  // namespace aio

namespace aio::detail {

void register_loop(EventLoop* loop);
void unregister_loop(EventLoop* loop);
/// The loop's record in the debug table aio-ps reads (src/debug/debug_table.cpp; docs/design.md,
/// "Introspection"): made with the loop, dropped with it, and naming the thread that runs it
/// while it runs.
void debug_add_loop(const EventLoop* loop);
void debug_remove_loop(const EventLoop* loop) noexcept;
void debug_loop_running(const EventLoop* loop, bool running) noexcept;
/// Whether `loop` still exists (not destroyed; it may be closed).
bool loop_alive(const EventLoop* loop);
/// What the default exception handler prints (also used once the loop is gone).
void log_to_stderr(const ExceptionContext& context) noexcept;

}  // namespace aio::detail
