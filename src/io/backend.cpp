// Chooses the I/O backend: the only file that names the implementations.
#include "io/backend.hpp"

#include "aio/errors.hpp"
#include "io/epoll_backend.hpp"

namespace aio::detail {

std::unique_ptr<Backend> make_backend(aio::Backend kind) {
  switch (kind) {
    case aio::Backend::automatic:
    case aio::Backend::epoll:
      return std::make_unique<EpollBackend>();
    case aio::Backend::io_uring:
      break;
  }
  throw RuntimeError("the io_uring backend is not available in this build");
}

}  // namespace aio::detail
