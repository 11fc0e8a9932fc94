#include "net/ssl_protocol.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <climits>
#include <span>
#include <vector>

#include "aio/errors.hpp"
#include "core/loop_internals.hpp"
#include "net/buffer_memory.hpp"
#include "net/ssl_error.hpp"

namespace aio::detail {

namespace {

// Decrypted data passes through here on its way to data_received() (a TCP read brings up to
// 256 KiB). Nothing else uses it: an application that writes from the data it was given must
// not see it overwritten.
std::span<char> read_scratch() {
  thread_local std::vector<char> buffer(256 * 1024);
  return buffer;
}

bool is_ip_address(const std::string& host) {
  try {
    (void)SocketAddress::ip(host, 0);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

// Failures a peer causes (a bad certificate, a reset) are the connection's business, as asyncio
// logs them only in debug mode; anything else is reported to the loop's exception handler.
bool routine(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const SSLError&) {
    return true;
  } catch (const std::system_error&) {
    return true;
  } catch (const TimeoutError&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

SSLProtocol::SSLProtocol(EventLoop& loop, std::shared_ptr<BaseProtocol> app_protocol,
                         TLSSettings settings, bool call_connection_made)
    : loop_(loop), settings_(std::move(settings)), call_connection_made_(call_connection_made) {
  const SSLContext* ctx = settings_.context.get();
  if (!ctx) throw std::invalid_argument("TLS needs an SSLContext");
  if (settings_.server_side != ctx->server_side()) {
    throw std::invalid_argument(settings_.server_side
                                    ? "Cannot create a server connection with a client context"
                                    : "Cannot create a client connection with a server context");
  }
  if (settings_.server_hostname && settings_.server_hostname->empty()) {
    settings_.server_hostname.reset();
  }
  if (!settings_.server_side && ctx->check_hostname() && !settings_.server_hostname) {
    throw std::invalid_argument("check_hostname requires server_hostname");
  }
  set_app_protocol(std::move(app_protocol));
  if (!app_protocol_) throw std::invalid_argument("TLS: the protocol factory returned no protocol");
  // start_tls: the protocol was connected before TLS began, so it hears connection_lost, with
  // the handshake's error if that fails (its stream's wait_closed() must end).
  if (!call_connection_made_) app_state_ = AppState::made;
  ERR_clear_error();
  ssl_ = SSL_new(ctx->native_handle());
  if (!ssl_) throw ssl_error_from_queue("SSL_new");
  BIO* bio = make_ssl_bio(&io_);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways: one reference taken
  if (settings_.server_side) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (const auto& host = settings_.server_hostname) {
    const bool ip = is_ip_address(*host);
    if (!ip) SSL_set_tlsext_host_name(ssl_, host->c_str());  // SNI names hosts, not addresses
    if (ctx->check_hostname()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host->c_str())
                        : X509_VERIFY_PARAM_set1_host(param, host->c_str(), host->size());
      if (ok != 1) throw ssl_error_from_queue("server_hostname '" + *host + "'");
    }
  }
}

SSLProtocol::~SSLProtocol() {
  unregister();
  if (!ssl_) return;
  // An SSLObject may keep the SSL alive; its BIO must not reach into this object any more.
  if (BIO* bio = SSL_get_rbio(ssl_)) BIO_set_data(bio, nullptr);
  SSL_free(ssl_);
}

void SSLProtocol::unregister() noexcept {
  LoopInternals::remove_resource(loop_, this);
}

void SSLProtocol::loop_closing() noexcept {
  auto keep = weak_from_this().lock();  // what is dropped below may hold the last reference
  finished_ = true;
  app_closed_ = true;  // a StreamWriter dropped later finds nothing to close
  state_ = State::closed;
  timer_.reset();
  waiter_.reset();
  app_stream_ = nullptr;
  app_buffered_ = nullptr;
  auto app = std::move(app_protocol_);
  auto face = std::move(app_transport_);
  auto transport = std::move(transport_);
}

Future<void> SSLProtocol::handshake_done() {
  if (!waiter_) waiter_.emplace(loop_.create_future<void>());
  return *waiter_;
}

void SSLProtocol::set_app_protocol(std::shared_ptr<BaseProtocol> protocol) {
  app_protocol_ = std::move(protocol);
  app_stream_ = dynamic_cast<Protocol*>(app_protocol_.get());
  app_buffered_ = app_stream_ ? nullptr : dynamic_cast<BufferedProtocol*>(app_protocol_.get());
}

// ---- the handshake ----

void SSLProtocol::connection_made(std::shared_ptr<Transport> transport) {
  transport_ = std::move(transport);
  LoopInternals::add_resource(loop_, this);
  state_ = State::handshaking;
  std::weak_ptr<SSLProtocol> weak = weak_from_this();
  timer_ = loop_.call_later(settings_.handshake_timeout, [weak] {
    if (auto self = weak.lock()) self->on_handshake_timeout();
  });
  do_handshake();
}

void SSLProtocol::do_handshake() {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    process_outgoing();
    handshake_finished(nullptr);
    return;
  }
  const int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    process_outgoing();
    return;
  }
  std::exception_ptr error =
      ssl_failure(ssl_, r, err, "TLS handshake failed", settings_.server_hostname);
  process_outgoing(true);  // the alert that tells the peer why
  handshake_finished(error);
}

void SSLProtocol::on_handshake_timeout() {
  if (state_ != State::handshaking) return;
  timer_.reset();
  char text[128];
  std::snprintf(text, sizeof text,
                "TLS handshake is taking longer than %g seconds: aborting the connection",
                settings_.handshake_timeout);
  handshake_finished(std::make_exception_ptr(TimeoutError(text)));
}

void SSLProtocol::handshake_finished(std::exception_ptr error) {
  auto keep = shared_from_this();
  cancel_timer();
  if (error) {
    state_ = State::closed;
    error_ = error;
    if (waiter_ && !waiter_->done()) waiter_->set_exception(error);
    if (!routine(error)) report(error, "TLS handshake failed");
    // A timed-out peer is cut off; one that failed hears the alert, then the end.
    bool timed_out = false;
    try {
      std::rethrow_exception(error);
    } catch (const TimeoutError&) {
      timed_out = true;
    } catch (...) {
    }
    if (transport_) {
      if (timed_out) {
        transport_->abort();
      } else {
        transport_->close();
      }
    }
    return;
  }
  state_ = State::wrapped;
  app_state_ = AppState::made;
  if (call_connection_made_) {
    std::exception_ptr failed;
    try {
      app_protocol_->connection_made(app_transport());
    } catch (...) {
      failed = std::current_exception();
    }
    if (failed) {
      fail(failed, "protocol.connection_made() failed");
      if (waiter_ && !waiter_->done()) waiter_->set_exception(failed);
      return;
    }
  }
  if (waiter_ && !waiter_->done()) waiter_->set_result();
  do_write();
  do_read();
}

// ---- reading ----

void SSLProtocol::data_received(std::string_view data) {
  if (state_ == State::unstarted || state_ == State::closed) return;
  auto keep = shared_from_this();
  // OpenSSL reads `data` where it is; what it leaves is copied before the call returns.
  struct KeepRest {
    SSLBuffers& io;
    ~KeepRest() { io.keep_fresh(); }
  } keep_rest{io_};
  io_.fresh = data;
  switch (state_) {
    case State::handshaking:
      do_handshake();
      break;
    case State::wrapped:
      do_read();
      // A write that waited for the peer (a TLS 1.2 renegotiation) may go on now.
      if (state_ == State::wrapped && backlog_offset_ < backlog_.size()) do_write();
      break;
    case State::flushing:
      discard_incoming();
      if (state_ == State::flushing) do_flush();
      break;
    case State::shutting_down:
      do_shutdown();
      break;
    default:
      break;
  }
}

// Decrypts and delivers until OpenSSL needs more, the application pauses or closes, or the
// peer's close_notify arrives.
void SSLProtocol::do_read() {
  auto keep = shared_from_this();
  while (state_ == State::wrapped && app_state_ == AppState::made && !app_reading_paused_ &&
         !app_closed_) {
    if (!deliver_one()) break;
  }
  if (state_ == State::wrapped) process_outgoing();  // post-handshake messages, key updates
  if (peer_eof_ && state_ == State::wrapped && !app_reading_paused_ && transport_) {
    transport_->close();
  }
}

// One SSL_read into the application; false when there is nothing more for now.
bool SSLProtocol::deliver_one() {
  std::span<char> buffer = read_scratch();
  if (app_buffered_) {
    try {
      buffer = app_buffered_->get_buffer(buffer.size());
      if (buffer.empty()) throw RuntimeError("get_buffer() returned an empty buffer");
    } catch (...) {
      fail(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
      return false;
    }
  }
  ERR_clear_error();
  const int n = SSL_read(ssl_, buffer.data(),
                         static_cast<int>(std::min<std::size_t>(buffer.size(), INT_MAX)));
  if (n > 0) {
    try {
      if (app_stream_) {
        app_stream_->data_received(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      } else if (app_buffered_) {
        app_buffered_->buffer_updated(static_cast<std::size_t>(n));
      }
    } catch (...) {
      fail(std::current_exception(), app_buffered_
                                         ? "Fatal error: protocol.buffer_updated() call failed."
                                         : "Fatal error: protocol.data_received() call failed.");
      return false;
    }
    return true;
  }
  const int err = SSL_get_error(ssl_, n);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return false;
  if (err == SSL_ERROR_ZERO_RETURN) {
    // close_notify: the peer has finished. TLS has no half-close, so we finish too (an
    // eof_received() that asks to stay open cannot be honoured, as in asyncio).
    try {
      if (app_stream_) (void)app_stream_->eof_received();
      if (app_buffered_) (void)app_buffered_->eof_received();
    } catch (...) {
      fail(std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
      return false;
    }
    start_shutdown();
    return false;
  }
  fail(ssl_failure(ssl_, n, err, "TLS read failed", settings_.server_hostname),
       "Fatal error on TLS transport");
  return false;
}

bool SSLProtocol::eof_received() {
  auto keep = shared_from_this();
  switch (state_) {
    case State::handshaking:
      handshake_finished(
          connection_reset_error("TLS handshake failed: the peer closed the connection"));
      return false;
    case State::wrapped:
      // The stream ended without close_notify: what was decrypted goes to the application,
      // then the connection closes (connection_lost(nullptr)), as asyncio does.
      peer_eof_ = true;
      do_read();
      return state_ == State::wrapped && app_reading_paused_;
    case State::flushing:
    case State::shutting_down:
      shutdown_finished(nullptr);
      return false;
    default:
      return false;
  }
}

void SSLProtocol::connection_lost(std::exception_ptr error) {
  auto keep = shared_from_this();
  cancel_timer();
  const State was = state_;
  state_ = State::closed;
  app_closed_ = true;
  if (!error) error = error_;
  if (was == State::handshaking || was == State::unstarted) {
    if (waiter_ && !waiter_->done()) {
      waiter_->set_exception(
          error ? error : connection_reset_error("TLS handshake failed: the connection was lost"));
    }
  }
  finished_ = true;
  empty_buffer(backlog_);
  backlog_offset_ = 0;
  std::shared_ptr<Transport> face = std::move(app_transport_);  // after the call below
  std::shared_ptr<BaseProtocol> app = std::move(app_protocol_);
  app_stream_ = nullptr;
  app_buffered_ = nullptr;
  if (app_state_ == AppState::made && app) {
    app_state_ = AppState::lost;
    try {
      app->connection_lost(error);
    } catch (...) {
      report(std::current_exception(), "protocol.connection_lost() failed");
    }
  }
  unregister();
}

// ---- writing ----

void SSLProtocol::app_write(std::string_view data) {
  if (data.empty()) return;
  if (app_closed_ || state_ == State::closed) return;  // asyncio logs it; the data goes nowhere
  if (state_ != State::wrapped || backlog_offset_ < backlog_.size()) {
    backlog_.append(data);
    control_app_writing();
    return;
  }
  ERR_clear_error();
  const int n =
      SSL_write(ssl_, data.data(), static_cast<int>(std::min<std::size_t>(data.size(), INT_MAX)));
  if (n > 0 && static_cast<std::size_t>(n) == data.size()) {
    process_outgoing();
    control_app_writing();
    return;
  }
  if (n > 0) data.remove_prefix(static_cast<std::size_t>(n));
  backlog_.append(data);
  do_write();
}

// Encrypts the backlog; stops when OpenSSL wants to read first (a renegotiation).
void SSLProtocol::do_write() {
  while (backlog_offset_ < backlog_.size() &&
         (state_ == State::wrapped || state_ == State::flushing)) {
    const std::size_t left = backlog_.size() - backlog_offset_;
    ERR_clear_error();
    const int n = SSL_write(ssl_, backlog_.data() + backlog_offset_,
                            static_cast<int>(std::min<std::size_t>(left, INT_MAX)));
    if (n > 0) {
      backlog_offset_ += static_cast<std::size_t>(n);
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
    fail(ssl_failure(ssl_, n, err, "TLS write failed", settings_.server_hostname),
         "Fatal error on TLS transport");
    return;
  }
  if (backlog_offset_ == backlog_.size()) {
    empty_buffer(backlog_);
    backlog_offset_ = 0;
  }
  process_outgoing();
  control_app_writing();
}

// Moves OpenSSL's output to the TCP transport, unless that one is over its high-water mark
// (`force`: regardless, before closing).
void SSLProtocol::process_outgoing(bool force) {
  if (!transport_) return;
  // In pieces, so that a paused transport stops taking them.
  while ((force || !ssl_writing_paused_) && io_.outgoing() > 0) {
    const std::size_t n = std::min<std::size_t>(io_.outgoing(), 256 * 1024);
    transport_->write(std::string_view(io_.out.data() + io_.out_offset, n));
    io_.consumed_out(n);  // (the transport calls back at most pause_writing(), a flag)
  }
}

void SSLProtocol::resume_writing() {
  auto keep = shared_from_this();
  ssl_writing_paused_ = false;
  process_outgoing();
  control_app_writing();
}

std::size_t SSLProtocol::app_write_buffer_size() const noexcept {
  return backlog_.size() - backlog_offset_ + io_.outgoing();
}

void SSLProtocol::control_app_writing() {
  if (!app_protocol_ || app_state_ != AppState::made) return;
  const std::size_t size = app_write_buffer_size();
  if (!app_writing_paused_ && size > high_) {
    app_writing_paused_ = true;
    try {
      app_protocol_->pause_writing();
    } catch (...) {
      report(std::current_exception(), "protocol.pause_writing() failed");
    }
  } else if (app_writing_paused_ && size <= low_) {
    app_writing_paused_ = false;
    try {
      app_protocol_->resume_writing();
    } catch (...) {
      report(std::current_exception(), "protocol.resume_writing() failed");
    }
  }
}

// ---- closing ----

void SSLProtocol::app_close() {
  if (app_closed_) return;
  app_closed_ = true;
  start_shutdown();
}

void SSLProtocol::app_abort() {
  app_closed_ = true;
  if (transport_) transport_->abort();
}

void SSLProtocol::start_shutdown() {
  app_closed_ = true;
  if (state_ == State::unstarted || state_ == State::handshaking) {
    if (transport_) transport_->abort();
    return;
  }
  if (state_ != State::wrapped) return;
  state_ = State::flushing;
  std::weak_ptr<SSLProtocol> weak = weak_from_this();
  timer_ = loop_.call_later(settings_.shutdown_timeout, [weak] {
    auto self = weak.lock();
    if (!self || (self->state_ != State::flushing && self->state_ != State::shutting_down)) return;
    self->timer_.reset();
    self->error_ = std::make_exception_ptr(TimeoutError("TLS shutdown timed out"));
    if (self->transport_) self->transport_->abort();
  });
  do_flush();
}

void SSLProtocol::do_flush() {
  do_write();
  if (state_ == State::flushing && backlog_offset_ == backlog_.size()) do_shutdown();
}

// Sends close_notify (once), then waits for the peer's, or the end of the stream; called again
// whenever data arrives meanwhile.
void SSLProtocol::do_shutdown() {
  if (state_ != State::shutting_down) {
    state_ = State::shutting_down;
    ERR_clear_error();
    const int r = SSL_shutdown(ssl_);
    const int err = r < 0 ? SSL_get_error(ssl_, r) : SSL_ERROR_NONE;
    process_outgoing(true);
    if (r < 0 && err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();
      shutdown_finished(nullptr);  // the session is broken: nothing to wait for
      return;
    }
  }
  const bool broken = !discard_incoming();
  if (broken || (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0) shutdown_finished(nullptr);
}

// Reads and drops whatever the peer still sends once the application has closed, up to its
// close_notify; false if what came was not TLS (then there is nothing to wait for).
bool SSLProtocol::discard_incoming() {
  // Its own buffer: this may run inside another connection's data_received().
  std::array<char, 16 * 1024> buffer;
  bool ok = true;
  for (;;) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buffer.data(), static_cast<int>(buffer.size()));
    if (n > 0) continue;
    const int err = SSL_get_error(ssl_, n);
    ok = err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_ZERO_RETURN;
    break;
  }
  ERR_clear_error();
  return ok;
}

void SSLProtocol::shutdown_finished(std::exception_ptr error) {
  if (state_ == State::closed) return;
  cancel_timer();
  state_ = State::closed;
  if (!transport_) return;
  if (error) {
    error_ = error;
    transport_->abort();
    return;
  }
  process_outgoing(true);
  transport_->close();
}

// ---- errors ----

void SSLProtocol::fail(std::exception_ptr error, const char* message) {
  if (!routine(error)) report(error, message);
  if (!error_) error_ = error;
  app_closed_ = true;
  if (transport_) transport_->abort();
}

void SSLProtocol::report(std::exception_ptr error, const char* message) {
  loop_.call_exception_handler({message, std::move(error), std::nullopt});
}

void SSLProtocol::cancel_timer() {
  if (timer_) timer_->cancel();
  timer_.reset();
}

}  // namespace aio::detail
