// The thread's current-loop setting, saved and restored around a Runner's life.
#pragma once

namespace aio {
class EventLoop;
}

namespace aio::detail {

struct CurrentLoopState {
  EventLoop* loop;
  bool set_called;
};
CurrentLoopState save_current_loop();
void restore_current_loop(CurrentLoopState state);

}  // namespace aio::detail
