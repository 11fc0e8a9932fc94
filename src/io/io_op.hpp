// An I/O operation: what the layers above ask the backend for, and how it answers.
//
// The caller owns the IoOp (usually inside an awaiting coroutine frame or a transport) and
// keeps it alive until it completes or is cancelled. Backend::start() either completes it at
// once (the epoll backend tries the system call first) or takes it; a taken operation is
// completed later by queueing it, a Runnable, on the loop's ready queue: run() is the
// completion, with `result` set (bytes, a descriptor, 0, or -errno).
//
// An accept or receive started again after it completed may be served from completions the
// backend already holds (io_uring's multishot requests go on producing them): start() then
// completes at once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "aio/detail/runnable.hpp"

namespace aio::detail {

enum class IoKind : std::uint8_t {
  readable,  // wait until fd is readable (or has an error / hang-up); result 0
  writable,  // wait until fd is writable; result 0
  recv,      // read up to len bytes into buf; result bytes (0: EOF)
  send,      // write up to len bytes from buf; result bytes
  accept,    // accept a connection; result the new descriptor, peer address in addr
  connect,   // connect to addr; result 0
  recvfrom,  // receive one datagram into buf, sender in addr
  sendto,    // send one datagram from buf to addr (addr_len 0: the connected peer)
  // Stream data in a buffer the backend chooses (only where Backend::selects_buffers()):
  // buf != nullptr: `result` bytes at buf, valid until the next poll() (0: end of stream);
  // buf == nullptr: result < 0 is an error, otherwise the descriptor is readable and the
  // caller reads itself. One start() may complete several times (a multishot receive).
  receive,
};

struct IoOp : Runnable {
  int fd = -1;
  IoKind kind = IoKind::readable;
  bool is_socket = true;  // recv/send on a socket; read/write on a pipe
  bool try_first = true;  // attempt the call before waiting (false: wait for readiness first)
  bool pending = false;   // taken by the backend, not yet completed
  std::int64_t result = 0;
  void* buf = nullptr;
  std::size_t len = 0;
  void* addr = nullptr;           // a sockaddr buffer (accept, connect, recvfrom, sendto)
  std::uint32_t addr_len = 0;     // in: its size (connect/sendto: the address length); out: used
  IoOp* next_in_queue = nullptr;  // the epoll backend's per-descriptor queue
  void* backend_slot = nullptr;   // the io_uring backend's record of a taken operation
};

/// An operation only ever tried (Backend::try_now), never started: nothing to complete.
struct TryOp final : IoOp {
  void run() override {}
};

}  // namespace aio::detail
