// Something the loop must shut down when it closes (an open transport, a listening server).
// A resource touches its loop only while registered(): once the loop has closed, the loop may
// be gone (a handle kept past run()), and loop_closing() has released everything already.
#pragma once

#include <string>

namespace aio::detail {

class LoopResource {
 public:
  /// The loop is closing (registered() is false already): release descriptors and drop
  /// self-references; no callback may run, and the loop is not to be touched again.
  virtual void loop_closing() noexcept = 0;
  /// In its loop's list: from LoopInternals::add_resource() to remove_resource() or the
  /// loop's closing.
  bool registered() const noexcept { return registered_; }
  /// The socket an open (not closing) socket transport serves, which add_reader() and friends
  /// then refuse (asyncio's loop._transports); -1 for anything else.
  virtual int transport_fd() const noexcept { return -1; }
  /// The transport as asyncio's repr() shows it, for that refusal.
  virtual std::string transport_repr() const { return {}; }

 protected:
  ~LoopResource() = default;

 private:
  friend struct LoopInternals;
  LoopResource* prev_resource_ = nullptr;
  LoopResource* next_resource_ = nullptr;
  bool registered_ = false;
};

}  // namespace aio::detail
