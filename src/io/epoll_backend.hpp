// The epoll backend (see epoll_backend.cpp for how it works).
#pragma once

#include "io/backend.hpp"

namespace aio::detail {

class EpollBackend final : public Backend {
 public:
  EpollBackend();
  ~EpollBackend() override;
  EpollBackend(const EpollBackend&) = delete;
  EpollBackend& operator=(const EpollBackend&) = delete;

  void poll(double timeout) override;
  void wake() noexcept override;
  bool has_io() const noexcept override { return registered_ > 0; }
  const char* name() const noexcept override { return "epoll"; }

 private:
  int epoll_fd_ = -1;
  int wake_fd_ = -1;    // an eventfd, always registered
  int registered_ = 0;  // descriptors registered besides the wake-up eventfd
};

}  // namespace aio::detail
