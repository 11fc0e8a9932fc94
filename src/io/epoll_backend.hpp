// The epoll backend (see epoll_backend.cpp for how it works).
#pragma once

#include <cstdint>
#include <vector>

#include "io/backend.hpp"
#include "io/op_queue.hpp"

namespace aio::detail {

class EpollBackend final : public Backend {
 public:
  EpollBackend();
  ~EpollBackend() override;
  EpollBackend(const EpollBackend&) = delete;
  EpollBackend& operator=(const EpollBackend&) = delete;

  void poll(double timeout, ReadyQueue& ready) override;
  bool cancel(IoOp& op) noexcept override;
  void forget(int fd) noexcept override;
  void wake() noexcept override;
  bool has_io() const noexcept override { return pending_ > 0; }
  const char* name() const noexcept override { return "epoll"; }

 protected:
  std::int64_t try_op(IoOp& op) noexcept override;
  bool start_op(IoOp& op) override;

 private:
  struct FdEntry {
    OpQueue readers;
    OpQueue writers;
    std::uint32_t events = 0;  // the interest registered with epoll
    bool added = false;
  };

  FdEntry& entry(int fd);
  void update_interest(int fd, FdEntry& e, bool may_drop);
  void complete_ready(OpQueue& queue, ReadyQueue& ready);

  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // an eventfd, always registered
  std::size_t pending_ = 0;
  std::vector<FdEntry> fds_;  // indexed by descriptor
};

}  // namespace aio::detail
