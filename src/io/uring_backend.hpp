// The io_uring backend (see uring_backend.cpp for how it works). Built only with liburing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "io/backend.hpp"
#include "io/op_queue.hpp"

struct io_uring;
struct io_uring_buf_ring;
struct io_uring_sqe;

namespace aio::detail {

class UringBackend final : public Backend {
 public:
  UringBackend();
  ~UringBackend() override;
  UringBackend(const UringBackend&) = delete;
  UringBackend& operator=(const UringBackend&) = delete;

  void poll(double timeout, ReadyQueue& ready) override;
  bool cancel(IoOp& op) noexcept override;
  void forget(int fd) noexcept override;
  void wake() noexcept override;
  bool has_io() const noexcept override { return pending_ > 0; }
  bool selects_buffers() const noexcept override { return buffers_ != nullptr; }
  const char* coalesce(std::chrono::microseconds window, unsigned events) noexcept override;
  const char* name() const noexcept override { return "io_uring"; }

 protected:
  std::int64_t try_op(IoOp& op) noexcept override;
  bool start_op(IoOp& op) override;

 private:
  // A completion held for an operation that was not waiting when it arrived.
  struct Held {
    std::int32_t res;
    std::uint32_t flags;
  };
  // What a submission's user_data points to. The backend owns it, so cancel() can detach the
  // operation at once (op = nullptr) and let the kernel's last completion free it later.
  struct Slot {
    IoOp* op = nullptr;  // a multishot request's operation
    Slot* next_free = nullptr;
    int fd = -1;         // a poll's descriptor (-1: cancelled, nobody waits on it)
    bool write = false;  // a poll for writability (else readability)
    IoKind kind = IoKind::readable;
    bool multishot = false;     // a multishot receive or accept (else a poll)
    bool live = false;          // the kernel may still post completions for it
    bool cancel_sent = false;   // asked the kernel to stop it
    std::vector<Held> held;     // multishot completions waiting for the operation's next start
    std::size_t held_next = 0;  // the first of them not yet handed over
  };

  void enable();
  io_uring_sqe* get_sqe();
  // The operations waiting for readiness on one descriptor, and the one poll each direction
  // has in the kernel for all of them (as epoll has one registration).
  struct FdEntry {
    OpQueue readers;
    OpQueue writers;
    Slot* read_poll = nullptr;
    Slot* write_poll = nullptr;
  };

  FdEntry& entry(int fd);
  void drop_poll(Slot*& poll) noexcept;
  void complete_poll(Slot* slot, std::int32_t res, ReadyQueue& ready);
  Slot* new_slot(IoOp* op);
  void free_slot(Slot* slot) noexcept;
  void submit_poll(Slot* slot);
  void submit_multishot(Slot* slot, const IoOp& op);
  void submit_cancel(Slot* slot) noexcept;
  void settle() noexcept;
  void arm_wake();
  void setup_buffers();
  void complete(Slot* slot, std::int32_t res, std::uint32_t flags, ReadyQueue& ready);
  /// `in_poll`: called for a completion poll() delivers, whose operation runs in this
  /// iteration; else by start(), for one held, whose operation runs after the next poll.
  void hand_over(IoOp& op, Held held, bool in_poll);
  void release(const Slot& slot, Held held) noexcept;
  void recycle_buffers() noexcept;
  int wait(double timeout);
  int wait_coalescing(double timeout);

  std::unique_ptr<io_uring> ring_;
  int wake_fd_ = -1;
  bool enabled_ = false;  // the ring starts disabled, bound to the thread that first polls
  std::size_t pending_ = 0;
  Slot* free_ = nullptr;
  std::vector<std::unique_ptr<Slot[]>> blocks_;
  std::vector<FdEntry> fds_;  // indexed by descriptor
  // Provided buffers for receives: a ring the kernel picks from, one region of memory.
  io_uring_buf_ring* buffer_ring_ = nullptr;
  char* buffers_ = nullptr;
  std::vector<std::uint16_t> handed_out_;  // given to operations this iteration: back next poll
  // Given by start() from what a receive held: its operation is scheduled and runs after the
  // next poll, so the buffer goes back one poll later (the kernel would otherwise fill it with
  // another connection's bytes before they were read).
  std::vector<std::uint16_t> handed_early_;
  // RunOptions::coalesce: a blocking poll waits for this many completions, or for the window
  // to pass with one (0: wake at the first).
  unsigned coalesce_events_ = 0;
  std::chrono::microseconds coalesce_window_{0};
};

}  // namespace aio::detail
