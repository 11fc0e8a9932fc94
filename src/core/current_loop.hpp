// The thread's current-loop setting, saved and restored around a Runner's life.
#pragma once

namespace aio {
class EventLoop;
}

namespace aio::detail {

/// The thread's current loop (set_event_loop()), or null.
EventLoop* current_loop() noexcept;

}  // namespace aio::detail
