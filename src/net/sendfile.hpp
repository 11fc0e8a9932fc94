// What loop.sendfile needs of a transport: asyncio's _sendfile_compatible (zero-copy, the
// read-and-write fallback, or neither) and the flow-control state of its _FlowControlMixin.
// The library's stream transports offer it; any other transport refuses sendfile.
#pragma once

#include <cstdint>
#include <memory>

#include "aio/protocols.hpp"

namespace aio::detail {

class SendfileTransport {
 public:
  enum class Mode : std::uint8_t { unsupported, fallback, try_native };
  virtual Mode sendfile_mode() const noexcept = 0;
  /// The protocol was told pause_writing() and not yet resume_writing().
  virtual bool protocol_paused() const noexcept = 0;
  /// The transport itself, held while sendfile runs.
  virtual std::shared_ptr<Transport> keep_alive() = 0;

 protected:
  ~SendfileTransport() = default;
};

/// One sendfile(2) of up to `count` bytes of `file` at `offset` to `sock`, `offset` moved past
/// what was sent: the bytes sent (0: the end of the file), or -errno (-EAGAIN: not now).
std::int64_t send_file_chunk(int sock, int file, std::int64_t& offset, std::int64_t count) noexcept;

}  // namespace aio::detail
