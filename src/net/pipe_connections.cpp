// loop.connect_read_pipe / connect_write_pipe: a protocol over one end of a pipe (asyncio's
// _UnixReadPipeTransport and _UnixWritePipeTransport, which StreamTransport also is).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "aio/errors.hpp"
#include "aio/future.hpp"
#include "net/socket_util.hpp"
#include "net/stream_transport.hpp"
#include "posix/os_error.hpp"

namespace aio {

namespace {

using ConnectionPair = std::pair<std::shared_ptr<Transport>, std::shared_ptr<BaseProtocol>>;

Coro<ConnectionPair> connect_pipe(EventLoop& loop, ProtocolFactory factory, int fd,
                                  detail::StreamTransport::Kind kind, const char* operation) {
  if (!factory) throw std::invalid_argument(std::string(operation) + "(): no protocol factory");
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) < 0) {
    throw detail::os_error(fd < 0 ? EBADF : errno,
                           std::string(operation) + "(): fd " + std::to_string(fd));
  }
  // As asyncio: pipes, sockets and character devices (a terminal) only.
  if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode)) {
    throw std::invalid_argument("Pipe transport is for pipes/sockets only.");
  }
  std::shared_ptr<BaseProtocol> protocol = factory();
  if (!protocol) throw std::invalid_argument("the protocol factory returned no protocol");
  detail::set_nonblocking(fd);
  auto transport = std::make_shared<detail::StreamTransport>(loop, fd, kind, protocol);
  Future<void> made = loop.create_future<void>();
  transport->start([made]() mutable {
    if (!made.done()) made.set_result();
  });
  std::exception_ptr failed;
  try {
    co_await made;
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {  // cancelled while connection_made was pending: the pipe is closed, as asyncio
    transport->close();
    std::rethrow_exception(failed);
  }
  co_return ConnectionPair(std::move(transport), std::move(protocol));
}

}  // namespace

Coro<ConnectionPair> EventLoop::open_pipe(ProtocolFactory factory, int fd, bool read) {
  check_open();
  return connect_pipe(
      *this, std::move(factory), fd,
      read ? detail::StreamTransport::Kind::read_pipe : detail::StreamTransport::Kind::write_pipe,
      read ? "connect_read_pipe" : "connect_write_pipe");
}

}  // namespace aio
