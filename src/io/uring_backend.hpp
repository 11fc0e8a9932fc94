// The io_uring backend (see uring_backend.cpp for how it works). Built only with liburing.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "io/backend.hpp"

struct io_uring;

namespace aio::detail {

class UringBackend final : public Backend {
 public:
  UringBackend();
  ~UringBackend() override;
  UringBackend(const UringBackend&) = delete;
  UringBackend& operator=(const UringBackend&) = delete;

  void poll(double timeout, ReadyQueue& ready) override;
  std::int64_t try_now(IoOp& op) noexcept override;
  bool start(IoOp& op) override;
  bool cancel(IoOp& op) noexcept override;
  void forget(int fd) noexcept override;
  void wake() noexcept override;
  bool has_io() const noexcept override { return pending_ > 0; }
  const char* name() const noexcept override { return "io_uring"; }

 private:
  // What a submission's user_data points to. The backend owns it, so cancel() can detach the
  // operation at once (op = nullptr) and let the kernel's completion arrive later harmlessly.
  struct Slot {
    IoOp* op = nullptr;
    Slot* next_free = nullptr;
  };

  Slot* new_slot(IoOp* op);
  void free_slot(Slot* slot) noexcept;
  void submit_poll(Slot* slot, int fd, unsigned events);
  void arm_wake();

  std::unique_ptr<io_uring> ring_;
  int wake_fd_ = -1;
  std::size_t pending_ = 0;
  Slot* free_ = nullptr;
  std::vector<std::unique_ptr<Slot[]>> blocks_;
};

}  // namespace aio::detail
