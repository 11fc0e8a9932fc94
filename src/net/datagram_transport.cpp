// UDP: asyncio's _SelectorDatagramTransport and loop.create_datagram_endpoint().
//
// Each readiness event reads one datagram and hands it to datagram_received(). sendto() sends
// at once; when the socket buffer is full the datagrams queue (and flush on writability).
// Errors of a send or receive (ICMP port unreachable on a connected socket, for example) go to
// error_received(), not to connection_lost, as in asyncio. With a remote address the socket is
// connected to it, unless broadcasting is allowed (asyncio does not connect then): the
// transport sends to that address itself.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <any>
#include <cerrno>
#include <deque>
#include <vector>

#include "aio/errors.hpp"
#include "aio/future.hpp"
#include "aio/protocols.hpp"
#include "core/loop_internals.hpp"
#include "net/socket_util.hpp"
#include "posix/os_error.hpp"

namespace aio {

namespace detail {

namespace {

class UdpTransport final : public DatagramTransport,
                           public LoopResource,
                           public std::enable_shared_from_this<UdpTransport> {
 public:
  /// `peer`: remote_addr, which the socket is connected to when `connected`.
  UdpTransport(EventLoop& loop, Socket sock, std::shared_ptr<DatagramProtocol> protocol,
               std::optional<SocketAddress> peer, bool connected)
      : loop_(loop),
        sock_(std::move(sock)),
        protocol_(std::move(protocol)),
        peer_(peer),
        connected_(connected) {
    read_op_.owner = this;
    read_op_.fd = sock_.fileno();
    read_op_.kind = IoKind::readable;
    read_op_.try_first = false;
    write_op_.owner = this;
    write_op_.fd = sock_.fileno();
    write_op_.kind = IoKind::writable;
    write_op_.try_first = false;
    io_.fd = sock_.fileno();
  }
  ~UdpTransport() override { release(); }

  void start(std::function<void()> ready) {
    self_ = shared_from_this();
    LoopInternals::add_resource(loop_, this);
    loop_.call_soon([self = self_, ready = std::move(ready)] {
      if (self->protocol_ && !self->closing_) {
        try {
          self->protocol_->connection_made(self);
        } catch (...) {
          self->loop_.call_exception_handler(
              {"protocol.connection_made() failed", std::current_exception(), std::nullopt});
        }
        if (!self->closing_) LoopInternals::backend(self->loop_).start(self->read_op_);
      }
      ready();
    });
  }

  void sendto(std::string_view data, std::optional<SocketAddress> to) override {
    if (closing_) return;  // asyncio logs and drops
    if (peer_ && to && !(*to == *peer_)) {
      throw std::invalid_argument("Invalid address: must be None or " + peer_->to_string());
    }
    if (!peer_ && !to) throw std::invalid_argument("sendto(): no address on an unconnected socket");
    // A connected socket sends to its peer; an unconnected one is given the address.
    const std::optional<SocketAddress> dest = connected_ ? std::nullopt : peer_ ? peer_ : to;
    if (queue_.empty()) {
      const std::int64_t r = send_one(data, dest);
      if (r != -EAGAIN) {
        if (r < 0) report(static_cast<int>(-r), "sendto");
        return;
      }
    }
    queued_bytes_ += data.size();
    queue_.emplace_back(std::string(data), dest);
    if (!write_op_.pending) LoopInternals::backend(loop_).start(write_op_);
  }

  void close() override {
    if (closing_) return;
    closing_ = true;
    LoopInternals::backend(loop_).cancel(read_op_);
    if (queue_.empty()) schedule_lost(nullptr);
  }
  void abort() override {
    queue_.clear();
    queued_bytes_ = 0;
    closing_ = true;
    LoopInternals::backend(loop_).cancel(read_op_);
    LoopInternals::backend(loop_).cancel(write_op_);
    schedule_lost(nullptr);
  }
  bool is_closing() const noexcept override { return closing_; }
  std::size_t get_write_buffer_size() const noexcept override { return queued_bytes_; }
  std::any get_extra_info(std::string_view key) const override {
    if (key == "socket") return sock_.fileno();
    if (!sock_) return {};
    try {
      if (key == "sockname") return sock_.sockname();
      if (key == "peername") return sock_.peername();
    } catch (const std::system_error&) {
    }
    return {};
  }

  int transport_fd() const noexcept override { return closing_ ? -1 : sock_.fileno(); }
  std::string transport_repr() const override {
    return "<DatagramTransport fd=" + std::to_string(sock_.fileno()) +
           (closing_ ? " closing>" : ">");
  }

  void loop_closing() noexcept override {
    closing_ = true;
    release();
    protocol_.reset();
    auto last = std::move(self_);
  }

 private:
  struct Ready final : IoOp {
    UdpTransport* owner = nullptr;
    void run() override { kind == IoKind::readable ? owner->on_readable() : owner->on_writable(); }
  };

  std::int64_t send_one(std::string_view data, const std::optional<SocketAddress>& to) {
    io_.kind = IoKind::sendto;
    io_.buf = const_cast<char*>(data.data());
    io_.len = data.size();
    io_.addr = to ? const_cast<void*>(to->data()) : nullptr;
    io_.addr_len = to ? to->size() : 0;
    return LoopInternals::backend(loop_).try_now(io_);
  }

  void report(int err, const char* what) {
    if (!protocol_) return;
    try {
      protocol_->error_received(std::make_exception_ptr(os_error(err, what)));
    } catch (...) {
      loop_.call_exception_handler(
          {"protocol.error_received() failed", std::current_exception(), std::nullopt});
    }
  }

  void on_readable() {
    if (closing_) return;
    auto keep = self_;
    thread_local std::vector<char> buffer(64 * 1024);
    SocketAddress from;
    io_.kind = IoKind::recvfrom;
    io_.buf = buffer.data();
    io_.len = buffer.size();
    io_.addr = from.data();
    io_.addr_len = SocketAddress::capacity();
    const std::int64_t r = LoopInternals::backend(loop_).try_now(io_);
    if (r >= 0) {
      from.set_size(io_.addr_len);
      try {
        protocol_->datagram_received(std::string_view(buffer.data(), static_cast<std::size_t>(r)),
                                     from);
      } catch (...) {
        loop_.call_exception_handler({"Fatal error: protocol.datagram_received() call failed.",
                                      std::current_exception(), std::nullopt});
        abort();
        return;
      }
    } else if (r != -EAGAIN) {
      report(static_cast<int>(-r), "recvfrom");
    }
    if (!closing_) LoopInternals::backend(loop_).start(read_op_);
  }

  void on_writable() {
    auto keep = self_;
    while (!queue_.empty()) {
      auto& [data, to] = queue_.front();
      const std::int64_t r = send_one(data, to);
      if (r == -EAGAIN) {
        LoopInternals::backend(loop_).start(write_op_);
        return;
      }
      if (r < 0) report(static_cast<int>(-r), "sendto");
      queued_bytes_ -= data.size();
      queue_.pop_front();
    }
    if (closing_) schedule_lost(nullptr);
  }

  void schedule_lost(std::exception_ptr error) {
    if (lost_) return;
    lost_ = true;
    loop_.call_soon([self = self_, error] { self->call_connection_lost(error); });
  }

  void call_connection_lost(std::exception_ptr error) {
    auto protocol = std::move(protocol_);
    if (protocol) {
      try {
        protocol->connection_lost(error);
      } catch (...) {
        loop_.call_exception_handler(
            {"protocol.connection_lost() failed", std::current_exception(), std::nullopt});
      }
    }
    release();
    LoopInternals::remove_resource(loop_, this);
    self_.reset();
  }

  // Once the socket is closed (by close() or the loop's closing) nothing is left to release:
  // the loop may be gone.
  void release() noexcept {
    if (!sock_) return;
    LoopInternals::backend(loop_).cancel(read_op_);
    LoopInternals::backend(loop_).cancel(write_op_);
    LoopInternals::backend(loop_).forget(sock_.fileno());
    ::close(sock_.detach());
  }

  EventLoop& loop_;
  Socket sock_;
  std::shared_ptr<DatagramProtocol> protocol_;
  std::optional<SocketAddress> peer_;
  bool connected_;
  std::shared_ptr<UdpTransport> self_;
  Ready read_op_;
  Ready write_op_;
  TryOp io_;
  std::deque<std::pair<std::string, std::optional<SocketAddress>>> queue_;
  std::size_t queued_bytes_ = 0;
  bool closing_ = false;
  bool lost_ = false;
};

}  // namespace

}  // namespace detail

Coro<std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<DatagramProtocol>>>
EventLoop::open_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options) {
  check_open();
  if (!factory) throw std::invalid_argument("create_datagram_endpoint(): no protocol factory");
  AddressFamily family = options.family;
  if (options.local_addr) family = options.local_addr->family();
  if (options.remote_addr) {
    if (family != AddressFamily::unspecified && family != options.remote_addr->family()) {
      throw std::invalid_argument(
          "create_datagram_endpoint(): local_addr and remote_addr are of "
          "different families");
    }
    family = options.remote_addr->family();
  }
  if (family == AddressFamily::unspecified) {
    throw std::invalid_argument(
        "create_datagram_endpoint(): unexpected address family (give local_addr, remote_addr "
        "or family)");
  }
  Socket sock(family, SocketType::datagram);
  if (options.reuse_port) sock.set_reuse_port();
  if (options.allow_broadcast) {
    int one = 1;
    ::setsockopt(sock.fileno(), SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  }
  if (options.local_addr) {
    // A stale Unix socket file is removed first (anything else at the path is left, and bind()
    // refuses it), as asyncio does.
    const SocketAddress& local = *options.local_addr;
    const std::string path = local.family() == AddressFamily::unix_domain ? local.host() : "";
    struct stat st {};
    if (!path.empty() && path.front() != '\0' && ::stat(path.c_str(), &st) == 0 &&
        S_ISSOCK(st.st_mode)) {
      ::unlink(path.c_str());
    }
    sock.bind(local);
  }
  const bool connected = options.remote_addr && !options.allow_broadcast;
  if (connected) co_await sock_connect(sock, *options.remote_addr);
  std::shared_ptr<DatagramProtocol> protocol = factory();
  if (!protocol) throw std::invalid_argument("the protocol factory returned no protocol");
  auto transport = std::make_shared<detail::UdpTransport>(*this, std::move(sock), protocol,
                                                          options.remote_addr, connected);
  Future<void> made = create_future<void>();
  transport->start([made]() mutable {
    if (!made.done()) made.set_result();
  });
  co_await made;
  co_return std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<DatagramProtocol>>(
      std::move(transport), std::move(protocol));
}

}  // namespace aio
