// The I/O backend under the loop: one small interface, one file per implementation, chosen in
// backend.cpp alone. Nothing above src/io includes a Linux header.
//
// The loop asks it for one thing per iteration: wait for I/O (up to a timeout) and complete
// what became ready. Operations (accept, connect, recv, send, readiness waits, child exit,
// signals) are added here as the networking layer needs them; the interface speaks in
// operations, not readiness, so an io_uring implementation is first-class.
#pragma once

#include <memory>

#include "aio/run_options.hpp"

namespace aio::detail {

class Backend {
 public:
  virtual ~Backend() = default;
  /// Waits up to `timeout` seconds (negative: without limit, 0: not at all) for I/O, a
  /// wake(), or nothing; completes whatever became ready.
  virtual void poll(double timeout) = 0;
  /// Interrupts a poll() in progress or makes the next one return at once. Thread-safe.
  virtual void wake() noexcept = 0;
  /// Whether any I/O is registered (the loop may skip polling when nothing is).
  virtual bool has_io() const noexcept = 0;
  virtual const char* name() const noexcept = 0;
};

/// The one place that names the implementations. RuntimeError when `kind` is not available.
std::unique_ptr<Backend> make_backend(aio::Backend kind);

}  // namespace aio::detail
