// Chooses the I/O backend: the only file that names the implementations.
#include "io/backend.hpp"

#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

#include "aio/errors.hpp"
#include "io/epoll_backend.hpp"
#ifdef AIO_HAVE_URING
#include "io/uring_backend.hpp"
#endif

namespace aio::detail {

std::unique_ptr<Backend> make_backend(aio::Backend kind) {
  if (kind == aio::Backend::automatic) {
    // AIO_BACKEND=epoll|io_uring picks one for a whole run (the test suite runs on both).
    const char* env = std::getenv("AIO_BACKEND");
    const std::string_view wanted = env ? env : "";
    if (wanted == "epoll") {
      kind = aio::Backend::epoll;
    } else if (wanted == "io_uring" || wanted == "uring") {
      kind = aio::Backend::io_uring;
    } else if (!wanted.empty() && wanted != "automatic") {
      throw RuntimeError("AIO_BACKEND='" + std::string(wanted) +
                         "' is not a backend (epoll, io_uring, automatic)");
    }
  }
  switch (kind) {
    case aio::Backend::automatic:
      // epoll for now: the io_uring backend waits through the ring but still makes the same
      // calls, so it is not yet the faster one (docs/performance.md).
    case aio::Backend::epoll:
      return std::make_unique<EpollBackend>();
    case aio::Backend::io_uring:
#ifdef AIO_HAVE_URING
      try {
        return std::make_unique<UringBackend>();
      } catch (const std::system_error& e) {
        throw RuntimeError(std::string("the io_uring backend cannot start here: ") + e.what());
      }
#else
      break;
#endif
  }
  throw RuntimeError("the io_uring backend is not in this build (liburing was not found)");
}

}  // namespace aio::detail
