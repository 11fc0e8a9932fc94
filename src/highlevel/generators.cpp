// The loop's registry of live async generators, and shutdown_asyncgens().
#include <cstdio>
#include <vector>

#include "aio/generator.hpp"
#include "core/loop_internals.hpp"
#include "posix/environment.hpp"

namespace aio {

namespace detail {

void register_generator(GeneratorBase* g) {
  EventLoop& loop = running_loop();
  LoopInternals::generators(loop).insert(g);
  g->loop = &loop;
}

void unregister_generator(GeneratorBase* g) noexcept {
  if (g->loop) LoopInternals::generators(*g->loop).erase(g);
  g->loop = nullptr;
}

void report_generator_destroyed(const char* function) noexcept {
  const EventLoop* loop = this_thread.running_loop;
  const bool debug = (loop && loop->get_debug()) || environment::debug();
  if (debug) {
    std::fprintf(stderr,
                 "aio: async generator '%s' was destroyed while suspended: its asynchronous "
                 "cleanup did not run (aclose() it, or let shutdown_asyncgens() close it)\n",
                 function);
  }
}

}  // namespace detail

Coro<void> EventLoop::shutdown_asyncgens() {
  std::vector<detail::GeneratorBase*> closing(services_->generators.begin(),
                                              services_->generators.end());
  for (detail::GeneratorBase* g : closing) {
    if (!services_->generators.count(g)) continue;  // closed meanwhile by another's cleanup
    try {
      co_await g->close();
    } catch (...) {
      call_exception_handler({"an error occurred during closing of asynchronous generator",
                              std::current_exception(), std::nullopt});
    }
  }
}

}  // namespace aio
