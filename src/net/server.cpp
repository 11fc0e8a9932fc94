// asyncio.Server and the loop's create_server / create_unix_server.
//
// Each listening socket has a standing accept operation. When it completes, the server accepts
// what else is waiting (up to the backlog per turn, as asyncio does), makes a transport and a
// protocol for each connection, and starts the operation again. When the process runs out of
// descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM) it stops accepting for a second instead of
// spinning on a listening socket that stays readable, and reports it, as asyncio does.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "aio/errors.hpp"
#include "core/loop_internals.hpp"
#include "net/server_state.hpp"
#include "net/socket_util.hpp"
#include "net/ssl_protocol.hpp"
#include "net/stream_transport.hpp"
#include "posix/os_error.hpp"

namespace aio {

namespace detail {

namespace {

// Removes a Unix server's socket file unless someone replaced it since (or removed it).
void remove_if_ours(const ServerState::SocketFile& file) {
  struct stat st {};
  if (::stat(file.path.c_str(), &st) == 0 && st.st_dev == file.device && st.st_ino == file.inode) {
    ::unlink(file.path.c_str());
  }
}

}  // namespace

struct ServerState::Listener final : IoOp {
  ServerState* server = nullptr;
  Socket sock;
  std::optional<SocketFile> file;
  std::optional<TimerHandle> retry;

  void run() override { server->accepted(*this); }
};

ServerState::ServerState(EventLoop& loop, ProtocolFactory factory, int backlog)
    : loop_(loop), factory_(std::move(factory)), backlog_(backlog > 0 ? backlog : 1) {
  LoopInternals::add_resource(loop_, this);
}

ServerState::~ServerState() {
  if (!registered()) return;  // the loop closed: loop_closing() released everything
  LoopInternals::remove_resource(loop_, this);
  for (auto& l : listeners_) LoopInternals::backend(loop_).cancel(*l);
}

void ServerState::add_listener(Socket sock, std::optional<SocketFile> file) {
  auto l = std::make_unique<Listener>();
  l->server = this;
  l->fd = sock.fileno();
  l->kind = IoKind::accept;
  l->sock = std::move(sock);
  l->file = std::move(file);
  listeners_.push_back(std::move(l));
}

void ServerState::start_serving() {
  if (serving_ || closed_) return;
  serving_ = true;
  for (auto& l : listeners_) {
    l->try_first = false;
    if (!l->pending) LoopInternals::backend(loop_).start(*l);
  }
}

// An accept completed; take what else is queued (up to the backlog), then wait again.
void ServerState::accepted(Listener& l) {
  if (closed_) return;
  auto keep = shared_from_this();
  Backend& backend = LoopInternals::backend(loop_);
  std::int64_t r = l.result;
  for (int n = 1;; ++n) {
    if (r >= 0) {
      new_connection(static_cast<int>(r));
    } else if (r == -EMFILE || r == -ENFILE || r == -ENOBUFS || r == -ENOMEM) {
      loop_.call_exception_handler(
          {"socket.accept() out of system resource",
           std::make_exception_ptr(os_error(static_cast<int>(-r), "accept")), std::nullopt});
      // Try again in a second, as asyncio does; serving goes on then.
      Listener* listener = &l;
      l.retry = loop_.call_later(1.0, [weak = weak_from_this(), listener] {
        auto self = weak.lock();
        if (self && self->serving_ && !listener->pending) {
          listener->try_first = false;
          if (LoopInternals::backend(self->loop_).start(*listener)) {
            LoopAccess::schedule(self->loop_, listener);
          }
        }
      });
      return;
    } else if (r == -EAGAIN) {
      break;
    }
    // Anything else (ECONNABORTED, EPERM from a firewall...) loses one client, not the server.
    if (n >= backlog_ || !serving_ || closed_) break;
    // The next one: accepted at once (epoll tries accept4; io_uring may hold one already),
    // or the listener waits again.
    l.try_first = true;
    if (!backend.start(l)) return;
    r = l.result;
  }
  l.try_first = false;
  if (serving_ && !closed_ && !l.pending) {
    if (backend.start(l)) LoopAccess::schedule(loop_, &l);  // one more at once: in turn
  }
}

void ServerState::new_connection(int fd) {
  bool owned = false;  // by a transport, which closes it
  try {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // asyncio's default
    std::shared_ptr<BaseProtocol> protocol = factory_();
    auto transport = std::make_shared<StreamTransport>(loop_, fd, StreamTransport::Kind::socket,
                                                       std::move(protocol), shared_from_this());
    owned = true;
    transport->start();
  } catch (...) {
    if (!owned) ::close(fd);
    loop_.call_exception_handler({"Error on transport creation for incoming connection",
                                  std::current_exception(), std::nullopt});
  }
}

void ServerState::close() {
  if (closed_) return;
  closed_ = true;
  serving_ = false;
  for (auto& l : listeners_) {
    LoopInternals::backend(loop_).cancel(*l);
    if (l->retry) l->retry->cancel();
    l->sock.close();
    if (l->file) remove_if_ours(*l->file);
  }
  if (serving_forever_ && !serving_forever_->done()) serving_forever_->cancel();
  if (clients_.empty()) wake_waiters();
}

void ServerState::close_clients(bool abort) {
  std::vector<StreamTransport*> clients(clients_.begin(), clients_.end());
  for (StreamTransport* t : clients) {
    if (abort) {
      t->abort();
    } else {
      t->close();
    }
  }
}

void ServerState::detach(StreamTransport* t) {
  clients_.erase(t);
  if (closed_ && clients_.empty()) wake_waiters();
}

void ServerState::wake_waiters() {
  for (auto& f : waiters_) {
    if (!f.done()) f.set_result();
  }
  waiters_.clear();
}

Coro<void> ServerState::wait_closed() {
  auto keep = shared_from_this();
  if (closed_ && clients_.empty()) co_return;
  Future<void> f = loop_.create_future<void>();
  waiters_.push_back(f);
  co_await f;
}

Coro<void> ServerState::serve_forever() {
  auto keep = shared_from_this();
  if (serving_forever_) {
    throw RuntimeError("server is already being awaited on serve_forever()");
  }
  if (closed_) throw RuntimeError("Server is closed");
  start_serving();
  serving_forever_ = loop_.create_future<void>();
  std::exception_ptr cancelled;
  try {
    co_await *serving_forever_;
  } catch (const CancelledError&) {
    cancelled = std::current_exception();
  }
  serving_forever_.reset();
  // Cancelled (or closed from elsewhere): close and wait for the connections, then re-raise.
  close();
  co_await wait_closed();
  if (cancelled) std::rethrow_exception(cancelled);
}

std::vector<SocketAddress> ServerState::addresses() const {
  std::vector<SocketAddress> out;
  for (const auto& l : listeners_) {
    if (l->sock) out.push_back(l->sock.sockname());
  }
  return out;
}

void ServerState::loop_closing() noexcept {
  closed_ = true;
  serving_ = false;
  for (auto& l : listeners_) {
    LoopInternals::backend(loop_).cancel(*l);
    l->sock.close();
  }
  waiters_.clear();
  serving_forever_.reset();
}

}  // namespace detail

// ---- Server, the handle ----

namespace {
detail::ServerState& checked(const std::shared_ptr<detail::ServerState>& s) {
  if (!s) throw RuntimeError("Server: not a server (default-constructed)");
  return *s;
}
}  // namespace

Coro<void> Server::serve_forever() {
  return checked(state_).serve_forever();
}
void Server::start_serving() {
  checked(state_).start_serving();
}
bool Server::is_serving() const noexcept {
  return state_ && state_->is_serving();
}
void Server::close() {
  checked(state_).close();
}
void Server::close_clients() {
  checked(state_).close_clients(false);
}
void Server::abort_clients() {
  checked(state_).close_clients(true);
}
Coro<void> Server::wait_closed() {
  return checked(state_).wait_closed();
}
std::vector<SocketAddress> Server::sockets() const {
  return checked(state_).addresses();
}
std::uint16_t Server::port() const {
  auto addresses = checked(state_).addresses();
  return addresses.empty() ? 0 : addresses.front().port();
}

// ---- The loop's factories ----

Coro<Server> EventLoop::create_server(ProtocolFactory factory, std::string host, std::uint16_t port,
                                      ServerOptions options) {
  check_open();
  if (!factory) throw std::invalid_argument("create_server(): no protocol factory");
  factory = detail::tls_server_factory(*this, std::move(factory), options);
  std::vector<AddressInfo> infos =
      co_await getaddrinfo(host, port, options.family, SocketType::stream, true);
  if (infos.empty())
    throw detail::os_error(EADDRNOTAVAIL, "getaddrinfo(" + host + ") returned nothing");
  auto state = std::make_shared<detail::ServerState>(*this, std::move(factory), options.backlog);
  std::vector<SocketAddress> seen;
  for (const AddressInfo& info : infos) {
    bool dup = false;
    for (const auto& s : seen) dup = dup || s == info.address;
    if (dup) continue;
    seen.push_back(info.address);
    Socket sock(info.family, SocketType::stream);
    if (options.reuse_address) sock.set_reuse_address();
    if (options.reuse_port) sock.set_reuse_port();
    if (options.keep_alive) {
      int one = 1;
      ::setsockopt(sock.fileno(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    if (info.family == AddressFamily::ipv6) {
      // With both families listening on the same port, the v6 socket must not claim v4 too.
      int one = 1;
      ::setsockopt(sock.fileno(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    sock.bind(info.address);
    sock.listen(options.backlog);
    state->add_listener(std::move(sock));
  }
  if (options.start_serving) state->start_serving();
  co_return Server(std::move(state));
}

Coro<Server> EventLoop::create_unix_server(ProtocolFactory factory, std::string path,
                                           ServerOptions options) {
  check_open();
  if (!factory) throw std::invalid_argument("create_unix_server(): no protocol factory");
  factory = detail::tls_server_factory(*this, std::move(factory), options);
  const SocketAddress address = SocketAddress::unix_path(path);
  // A stale socket file from an earlier run is removed (asyncio does the same).
  struct stat st {};
  if (path.front() != '\0' && ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    ::unlink(path.c_str());
  }
  auto state = std::make_shared<detail::ServerState>(*this, std::move(factory), options.backlog);
  Socket sock(AddressFamily::unix_domain, SocketType::stream);
  sock.bind(address);
  sock.listen(options.backlog);
  // The file bound now, remembered so that close() removes this one and no other.
  std::optional<detail::ServerState::SocketFile> file;
  if (options.cleanup_socket && path.front() != '\0' && ::stat(path.c_str(), &st) == 0) {
    file = detail::ServerState::SocketFile{path, st.st_dev, st.st_ino};
  }
  state->add_listener(std::move(sock), std::move(file));
  if (options.start_serving) state->start_serving();
  co_return Server(std::move(state));
}

}  // namespace aio
