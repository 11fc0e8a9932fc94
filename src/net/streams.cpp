// Streams over transports: the stream protocol, StreamWriter, open_connection, start_server.
#include <cerrno>
#include <system_error>

#include "aio/errors.hpp"
#include "aio/loop.hpp"
#include "aio/sleep.hpp"
#include "aio/streams.hpp"
#include "net/stream_protocol.hpp"

namespace aio {

namespace detail {

namespace {

std::exception_ptr connection_reset(const char* what) {
  return std::make_exception_ptr(std::system_error(ECONNRESET, std::system_category(), what));
}

}  // namespace

StreamWriterState::~StreamWriterState() {
  if (transport && !transport->is_closing()) {
    try {
      transport->close();
    } catch (...) {
      // The loop is closed: the transport went with it.
    }
  }
}

StreamProtocol::StreamProtocol(EventLoop& loop, StreamReader reader, ClientConnected handler)
    : loop_(loop), reader_(std::move(reader)), handler_(std::move(handler)) {}

void StreamProtocol::connection_made(std::shared_ptr<Transport> transport) {
  reader_.set_transport(transport.get());
  if (!wants_writer_) return;
  auto state = std::make_shared<StreamWriterState>(transport, shared_from_this(), reader_);
  if (!handler_) {
    writer = std::move(state);
    return;
  }
  // The handler runs as a task; an exception it lets out goes to the loop's handler and
  // closes the connection (asyncio 3.12+).
  task_.emplace(loop_.create_task(handler_(reader_, StreamWriter(std::move(state)))));
  std::weak_ptr<Transport> weak = transport;
  std::weak_ptr<StreamProtocol> self = weak_from_this();
  EventLoop* loop = &loop_;
  task_->add_done_callback([weak, self, loop](Future<void>& done) {
    // The handler's frame (and the writer it holds) goes now: a writer nobody holds closes
    // the connection, as in asyncio when the handler returns without closing it.
    if (auto p = self.lock()) p->task_.reset();
    if (done.cancelled()) return;
    if (std::exception_ptr e = done.exception()) {
      loop->call_exception_handler({"Unhandled exception in client_connected_cb", e, std::nullopt});
      if (auto t = weak.lock()) t->close();
    }
  });
}

void StreamProtocol::connection_lost(std::exception_ptr error) {
  lost_ = true;
  lost_error_ = error;
  if (error) {
    reader_.set_exception(error);
  } else if (!reader_.at_eof()) {
    try {
      reader_.feed_eof();
    } catch (...) {
    }
  }
  reader_.set_transport(nullptr);
  writer.reset();  // a writer nobody took holds this protocol: let both go
  drain_waiters_.wake_all();
  if (closed_ && !closed_->done()) {
    if (error) {
      closed_->set_exception(error);
    } else {
      closed_->set_result();
    }
  }
  task_.reset();
}

void StreamProtocol::data_received(std::string_view data) {
  reader_.feed_data(data);
}

bool StreamProtocol::eof_received() {
  reader_.feed_eof();
  return true;  // keep the write side open: the writer decides when to close
}

void StreamProtocol::resume_writing() {
  paused_ = false;
  drain_waiters_.wake_all();
}

Coro<void> StreamProtocol::drain_helper() {
  auto keep = shared_from_this();
  if (lost_) std::rethrow_exception(connection_reset("Connection lost"));
  if (!paused_) co_return;
  Waiter waiter(drain_waiters_);
  co_await waiter;
  if (lost_) {
    if (lost_error_) std::rethrow_exception(lost_error_);
    std::rethrow_exception(connection_reset("Connection lost"));
  }
}

Coro<void> StreamProtocol::wait_closed() {
  auto keep = shared_from_this();
  if (!closed_) {
    closed_.emplace(loop_.create_future<void>());
    if (lost_) {
      if (lost_error_) {
        closed_->set_exception(lost_error_);
      } else {
        closed_->set_result();
      }
    }
  }
  Future<void> f = *closed_;
  co_await f;
}

}  // namespace detail

// ---- StreamWriter ----

namespace {
detail::StreamWriterState& checked(const std::shared_ptr<detail::StreamWriterState>& s) {
  if (!s) throw RuntimeError("StreamWriter: not connected (default-constructed)");
  return *s;
}
}  // namespace

void StreamWriter::write(std::string_view data) {
  checked(state_).transport->write(data);
}

Coro<void> StreamWriter::drain() {
  auto state = state_;
  checked(state);
  if (state->reader) {
    if (std::exception_ptr e = state->reader->exception()) std::rethrow_exception(e);
  }
  const bool closing = state->transport->is_closing();
  if (!closing && state->protocol->writable_now()) co_return;
  if (closing) {
    // Let connection_lost run first, so the error below is the real one (asyncio does this).
    co_await sleep(0);
  }
  co_await state->protocol->drain_helper();
}

void StreamWriter::write_eof() {
  checked(state_).transport->write_eof();
}
bool StreamWriter::can_write_eof() const noexcept {
  return state_ && state_->transport->can_write_eof();
}
void StreamWriter::close() {
  checked(state_).transport->close();
}
bool StreamWriter::is_closing() const noexcept {
  return !state_ || state_->transport->is_closing();
}

Coro<void> StreamWriter::wait_closed() {
  auto state = state_;
  checked(state);
  co_await state->protocol->wait_closed();
}

std::any StreamWriter::get_extra_info(std::string_view key) const {
  return checked(state_).transport->get_extra_info(key);
}

SocketAddress StreamWriter::peername() const {
  std::any a = get_extra_info("peername");
  if (auto* p = std::any_cast<SocketAddress>(&a)) return *p;
  return {};
}

SocketAddress StreamWriter::sockname() const {
  std::any a = get_extra_info("sockname");
  if (auto* p = std::any_cast<SocketAddress>(&a)) return *p;
  return {};
}

Transport& StreamWriter::transport() const {
  return *checked(state_).transport;
}

Coro<void> StreamWriter::start_tls(std::shared_ptr<SSLContext> sslcontext,
                                   std::optional<std::string> server_hostname,
                                   std::optional<Duration> ssl_handshake_timeout,
                                   std::optional<Duration> ssl_shutdown_timeout) {
  auto state = state_;
  checked(state);
  co_await drain();
  EventLoop& loop = get_running_loop();
  // Named and moved into the call (GCC 12 destroys a co_await'ed call's arguments twice).
  std::shared_ptr<Transport> plain = state->transport;
  std::shared_ptr<BaseProtocol> protocol = state->protocol;
  const bool server_side = state->protocol->server_side();
  std::shared_ptr<Transport> upgraded = co_await loop.start_tls(
      std::move(plain), std::move(protocol), std::move(sslcontext), server_side,
      std::move(server_hostname), ssl_handshake_timeout, ssl_shutdown_timeout);
  state->transport = std::move(upgraded);
  state->protocol->replace_transport(state->transport.get());
}

// ---- open_connection / start_server ----

namespace {

Coro<StreamPair> finish_open(std::shared_ptr<detail::StreamProtocol> protocol,
                             StreamReader reader) {
  if (!protocol->writer) throw RuntimeError("open_connection(): the connection was lost at once");
  co_return StreamPair(std::move(reader), StreamWriter(std::move(protocol->writer)));
}

}  // namespace

Coro<StreamPair> open_connection(std::string host, std::uint16_t port, ConnectOptions options) {
  return open_connection(std::move(host), std::to_string(port), std::move(options));
}

Coro<StreamPair> open_connection(std::string host, std::string port, ConnectOptions options) {
  EventLoop& loop = get_running_loop();
  StreamReader reader(options.limit);
  auto protocol = std::make_shared<detail::StreamProtocol>(loop, reader);
  // Named, not converted inside the co_await: GCC 12 would destroy the lambda twice.
  ProtocolFactory factory = [protocol] { return protocol; };
  co_await loop.create_connection(std::move(factory), std::move(host), port, std::move(options));
  co_return co_await finish_open(std::move(protocol), std::move(reader));
}

Coro<StreamPair> open_unix_connection(std::string path, ConnectOptions options) {
  EventLoop& loop = get_running_loop();
  StreamReader reader(options.limit);
  auto protocol = std::make_shared<detail::StreamProtocol>(loop, reader);
  ProtocolFactory factory = [protocol] { return protocol; };
  co_await loop.create_unix_connection(std::move(factory), std::move(path), std::move(options));
  co_return co_await finish_open(std::move(protocol), std::move(reader));
}

namespace {

ProtocolFactory stream_factory(EventLoop& loop, ClientConnected handler, std::int64_t limit) {
  if (!handler) throw std::invalid_argument("start_server(): no client_connected handler");
  if (limit <= 0) throw std::invalid_argument("Limit cannot be <= 0");
  return [&loop, handler = std::move(handler), limit]() -> std::shared_ptr<BaseProtocol> {
    return std::make_shared<detail::StreamProtocol>(loop, StreamReader(limit), handler);
  };
}

}  // namespace

Coro<Server> start_server(ClientConnected handler, std::string host, std::uint16_t port,
                          ServerOptions options) {
  EventLoop& loop = get_running_loop();
  // Moved, not copied, into the call: GCC 12 destroys a co_await'ed call's arguments twice
  // (harmless for moved-from ones), and the options hold the TLS context.
  ProtocolFactory factory = stream_factory(loop, std::move(handler), options.limit);
  co_return co_await loop.create_server(std::move(factory), std::move(host), port,
                                        std::move(options));
}

Coro<Server> start_unix_server(ClientConnected handler, std::string path, ServerOptions options) {
  EventLoop& loop = get_running_loop();
  ProtocolFactory factory = stream_factory(loop, std::move(handler), options.limit);
  co_return co_await loop.create_unix_server(std::move(factory), std::move(path),
                                             std::move(options));
}

}  // namespace aio
