// aio/shield.hpp — asyncio.shield(aw): a Future that can be cancelled without cancelling `aw`.
#pragma once

#include <type_traits>
#include <utility>

#include "aio/detail/thread_state.hpp"
#include "aio/future.hpp"
#include "aio/loop.hpp"
#include "aio/task.hpp"

namespace aio {

/// asyncio.shield(aw): a Future that mirrors `aw`; cancelling it leaves `aw` running. A done
/// `aw` is returned as it is.
template <class A>
auto shield(A&& aw) {
  auto inner = ensure_future(std::forward<A>(aw));
  using T = typename decltype(inner)::value_type;
  Future<T> in(inner);
  if (in.done()) return in;
  Future<T> outer = in.get_loop().template create_future<T>();
  // The shielded future is awaited by the caller (asyncio 3.14), for the call graphs.
  detail::FutureBase* caller = detail::this_thread.current_task;
  if (caller) in.core()->add_awaited_by(*caller);
  auto on_inner = in.add_done_callback([outer, caller](Future<T>& done) mutable {
    if (caller) done.core()->discard_awaited_by(*caller);
    if (outer.cancelled()) {
      if (!done.cancelled()) done.exception();  // retrieved: nobody else will report it
      return;
    }
    if (done.cancelled()) {
      outer.cancel();
    } else if (auto e = done.exception()) {
      outer.set_exception(e);
    } else if constexpr (std::is_void_v<T>) {
      outer.set_result();
    } else {
      outer.set_result(done.result());
    }
  });
  outer.add_done_callback([in, on_inner](Future<T>&) mutable {
    if (!in.done()) in.remove_done_callback(on_inner);
  });
  return outer;
}

}  // namespace aio
