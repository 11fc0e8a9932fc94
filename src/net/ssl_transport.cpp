// The application's side of a TLS connection (asyncio's _SSLProtocolTransport) and what the
// SSLProtocol does for it (reading flow control, write-buffer limits, extra info), the
// factories' TLS settings, and EventLoop::start_tls.
#include <openssl/ssl.h>

#include "aio/errors.hpp"
#include "net/sendfile.hpp"
#include "net/ssl_protocol.hpp"
#include "net/water_marks.hpp"

namespace aio::detail {

namespace {

/// A face over the SSLProtocol, which holds the state.
class SSLAppTransport final : public Transport,
                              public SendfileTransport,
                              public std::enable_shared_from_this<SSLAppTransport> {
 public:
  explicit SSLAppTransport(std::shared_ptr<SSLProtocol> ssl) : ssl_(std::move(ssl)) {}

  // loop.sendfile reads and writes through TLS (asyncio's _SendfileMode.FALLBACK).
  Mode sendfile_mode() const noexcept override { return Mode::fallback; }
  bool protocol_paused() const noexcept override { return ssl_->app_writing_paused(); }
  std::shared_ptr<Transport> keep_alive() override { return shared_from_this(); }

  void write(std::string_view data) override { ssl_->app_write(data); }
  void write_eof() override { throw RuntimeError("write_eof(): TLS does not support half-closes"); }
  bool can_write_eof() const noexcept override { return false; }
  void close() override { ssl_->app_close(); }
  void abort() override { ssl_->app_abort(); }
  bool is_closing() const noexcept override { return ssl_->app_closing(); }
  void pause_reading() override { ssl_->app_pause_reading(); }
  void resume_reading() override { ssl_->app_resume_reading(); }
  bool is_reading() const noexcept override { return ssl_->app_reading(); }
  std::size_t get_write_buffer_size() const noexcept override {
    return ssl_->app_write_buffer_size();
  }
  void set_write_buffer_limits(std::optional<std::int64_t> high,
                               std::optional<std::int64_t> low) override {
    ssl_->set_app_write_buffer_limits(high, low);
  }
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override {
    return ssl_->app_write_buffer_limits();
  }
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override {
    ssl_->set_app_protocol(std::move(protocol));
  }
  std::shared_ptr<BaseProtocol> get_protocol() const override { return ssl_->app_protocol(); }
  std::any get_extra_info(std::string_view key) const override { return ssl_->extra_info(key); }

 private:
  std::shared_ptr<SSLProtocol> ssl_;
};

double seconds_or(const std::optional<Duration>& d, double fallback) {
  if (!d) return fallback;
  if (d->seconds() <= 0) throw std::invalid_argument("TLS timeouts must be positive");
  return d->seconds();
}

}  // namespace

// ---- the SSLProtocol's side of the application transport ----

void SSLProtocol::set_app_write_buffer_limits(std::optional<std::int64_t> high,
                                              std::optional<std::int64_t> low) {
  const WaterMarks marks = water_marks(high, low);
  high_ = marks.high;
  low_ = marks.low;
  control_app_writing();
}

// ---- reading flow control ----

void SSLProtocol::app_pause_reading() {
  if (app_reading_paused_ || app_closed_) return;
  app_reading_paused_ = true;
  if (transport_) transport_->pause_reading();
}

void SSLProtocol::app_resume_reading() {
  if (!app_reading_paused_ || app_closed_) return;
  app_reading_paused_ = false;
  if (transport_ && !peer_eof_) transport_->resume_reading();
  // What OpenSSL already holds goes first, from the loop, as a transport delivers held data.
  std::weak_ptr<SSLProtocol> weak = weak_from_this();
  loop_.call_soon([weak] {
    if (auto self = weak.lock()) self->do_read();
  });
}

// ---- extra info ----

std::any SSLProtocol::extra_info(std::string_view key) const {
  if (key == "sslcontext") return settings_.context;
  const bool connected =
      state_ != State::unstarted && state_ != State::handshaking && SSL_is_init_finished(ssl_);
  if (key == "ssl_object") {
    if (!connected) return {};
    return SSLObject(ssl_, settings_.server_hostname);
  }
  if (key == "peercert") {
    if (!connected) return {};
    if (auto cert = SSLObject(ssl_).getpeercert()) return *cert;
    return {};
  }
  if (key == "cipher") {
    if (!connected) return {};
    if (auto c = SSLObject(ssl_).cipher()) return *c;
    return {};
  }
  return transport_ ? transport_->get_extra_info(key) : std::any{};
}

std::shared_ptr<Transport> SSLProtocol::app_transport() {
  if (app_transport_) return app_transport_;
  auto t = std::make_shared<SSLAppTransport>(shared_from_this());
  if (!finished_) app_transport_ = t;  // after the end, a face that holds no cycle
  return t;
}

std::optional<TLSSettings> client_tls_settings(const ConnectOptions& options,
                                               const std::string& host) {
  if (!options.ssl) {
    if (options.server_hostname || options.ssl_handshake_timeout || options.ssl_shutdown_timeout) {
      throw std::invalid_argument(
          "server_hostname, ssl_handshake_timeout and ssl_shutdown_timeout are only meaningful "
          "with ssl");
    }
    return std::nullopt;
  }
  TLSSettings s;
  s.context = options.ssl;
  s.server_side = false;
  s.server_hostname = options.server_hostname ? options.server_hostname : host;
  s.handshake_timeout = seconds_or(options.ssl_handshake_timeout, 60.0);
  s.shutdown_timeout = seconds_or(options.ssl_shutdown_timeout, 30.0);
  // Refused before connecting, as the SSLProtocol would refuse it after.
  if (s.context->server_side()) {
    throw std::invalid_argument("Cannot create a client connection with a server context");
  }
  if (s.context->check_hostname() && (!s.server_hostname || s.server_hostname->empty())) {
    throw std::invalid_argument("check_hostname requires server_hostname");
  }
  return s;
}

std::optional<TLSSettings> server_tls_settings(const std::shared_ptr<SSLContext>& ssl,
                                               const std::optional<Duration>& handshake_timeout,
                                               const std::optional<Duration>& shutdown_timeout,
                                               const char* method) {
  if (!ssl) {
    if (handshake_timeout || shutdown_timeout) {
      throw std::invalid_argument("ssl_handshake_timeout is only meaningful with ssl");
    }
    return std::nullopt;
  }
  TLSSettings s;
  s.context = ssl;
  s.server_side = true;
  s.handshake_timeout = seconds_or(handshake_timeout, 60.0);
  s.shutdown_timeout = seconds_or(shutdown_timeout, 30.0);
  if (!s.context->server_side()) {
    throw std::invalid_argument(std::string(method) +
                                "(): ssl needs a server context (TLSProtocol::tls_server)");
  }
  return s;
}

ProtocolFactory tls_server_factory(EventLoop& loop, ProtocolFactory factory,
                                   const ServerOptions& options) {
  std::optional<TLSSettings> s = server_tls_settings(options.ssl, options.ssl_handshake_timeout,
                                                     options.ssl_shutdown_timeout, "create_server");
  if (!s) return factory;
  return [&loop, factory = std::move(factory), s = *s]() -> std::shared_ptr<BaseProtocol> {
    return std::make_shared<SSLProtocol>(loop, factory(), s);
  };
}

}  // namespace aio::detail

namespace aio {

Coro<std::shared_ptr<Transport>> EventLoop::start_tls(
    std::shared_ptr<Transport> transport, std::shared_ptr<BaseProtocol> protocol,
    std::shared_ptr<SSLContext> sslcontext, bool server_side,
    std::optional<std::string> server_hostname, std::optional<Duration> ssl_handshake_timeout,
    std::optional<Duration> ssl_shutdown_timeout) {
  check_open();
  if (!transport || transport->is_closing()) {
    throw RuntimeError("start_tls(): the transport is closing");
  }
  detail::TLSSettings s;
  s.context = std::move(sslcontext);
  s.server_side = server_side;
  s.server_hostname = std::move(server_hostname);
  s.handshake_timeout = detail::seconds_or(ssl_handshake_timeout, 60.0);
  s.shutdown_timeout = detail::seconds_or(ssl_shutdown_timeout, 30.0);
  auto ssl = std::make_shared<detail::SSLProtocol>(*this, std::move(protocol), std::move(s), false);
  Future<void> done = ssl->handshake_done();
  // Reading waits until the TLS protocol is in place, so no byte reaches the old protocol.
  transport->pause_reading();
  transport->set_protocol(ssl);
  Handle made = call_soon([ssl, transport] { ssl->connection_made(transport); });
  Handle resume = call_soon([transport] { transport->resume_reading(); });
  std::exception_ptr failed;
  try {
    co_await done;
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    made.cancel();
    resume.cancel();
    transport->close();
    std::rethrow_exception(failed);
  }
  co_return ssl->app_transport();
}

}  // namespace aio
