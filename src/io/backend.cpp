// Chooses the I/O backend: the only file that names the implementations.
#include "io/backend.hpp"

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>

#include "aio/errors.hpp"
#include "io/epoll_backend.hpp"
#include "posix/environment.hpp"
#ifdef AIO_HAVE_URING
#include "io/uring_backend.hpp"
#endif

namespace aio::detail {

namespace {

std::unique_ptr<Backend> make_uring() {
#ifdef AIO_HAVE_URING
  return std::make_unique<UringBackend>();
#else
  throw RuntimeError(
      "the io_uring backend is not in this build (liburing was not found, or AIO_WITH_URING=OFF)");
#endif
}

}  // namespace

std::unique_ptr<Backend> make_backend(aio::Backend kind, std::string* note) {
  if (kind == aio::Backend::automatic) {
    // AIO_BACKEND=epoll|io_uring picks one for a whole run (the test suite runs on both).
    const std::string_view wanted = environment::backend();
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
      // io_uring where the kernel allows it (it may be missing, disabled by the
      // kernel.io_uring_disabled sysctl, or forbidden by a seccomp filter, as container
      // runtimes often do); epoll otherwise.
      try {
        return make_uring();
      } catch (const std::exception& e) {
        if (note) *note = std::string("io_uring unavailable (") + e.what() + ")";
      }
      return std::make_unique<EpollBackend>();
    case aio::Backend::epoll:
      return std::make_unique<EpollBackend>();
    case aio::Backend::io_uring:
      try {
        return make_uring();
      } catch (const std::system_error& e) {
        // Out of descriptors or memory is the process's state, not the kernel refusing
        // io_uring: that stays an OS error, as it would be for epoll.
        const int err = e.code().value();
        if (err == EMFILE || err == ENFILE || err == ENOMEM) throw;
        throw RuntimeError(std::string("the io_uring backend cannot start here: ") + e.what());
      }
  }
  throw RuntimeError("unknown backend");
}

}  // namespace aio::detail
