// TLS over any stream transport, in memory (asyncio's sslproto): the SSLProtocol is the TCP
// transport's protocol; it feeds what arrives to OpenSSL (through the BIO of ssl_bio.hpp), hands
// the plaintext to the application's protocol, and writes what OpenSSL produces to the transport.
// The application sees an SSLAppTransport (asyncio's _SSLProtocolTransport), a thin face whose
// state lives in the SSLProtocol; the two hold each other until the connection is lost.
//
// States: handshaking → wrapped → flushing (closing: the write backlog drains) → shutting_down
// (close_notify sent, the peer's awaited) → closed; a failed handshake goes straight to closed.
// The application's protocol hears connection_made only once the handshake is done, and nothing
// at all when it fails. Flow control: the application is paused while the bytes not yet on the
// TCP transport (the write backlog and OpenSSL's output) exceed its high-water mark; that
// output is held back while the TCP transport itself is paused. Pausing the application's
// reading pauses the TCP transport's. docs/design.md draws the whole machine.
#pragma once

#include <any>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aio/future.hpp"
#include "aio/handle.hpp"
#include "aio/loop.hpp"
#include "aio/protocols.hpp"
#include "aio/ssl.hpp"
#include "core/loop_resource.hpp"
#include "net/ssl_bio.hpp"

namespace aio::detail {

/// What a TLS connection is made with (from ConnectOptions, ServerOptions, start_tls).
struct TLSSettings {
  std::shared_ptr<SSLContext> context;
  bool server_side = false;
  std::optional<std::string> server_hostname;
  double handshake_timeout = 60.0;
  double shutdown_timeout = 30.0;
};

/// The client side's settings, or nullopt without `ssl` (std::invalid_argument then if a TLS
/// option is set anyway, as asyncio refuses it). Checked before connecting.
std::optional<TLSSettings> client_tls_settings(const ConnectOptions& options,
                                               const std::string& host);
/// The server side's settings (create_server, connect_accepted_socket), or nullopt without
/// `ssl` (std::invalid_argument then if a timeout is set anyway, or for a client context;
/// `method` names the caller).
std::optional<TLSSettings> server_tls_settings(const std::shared_ptr<SSLContext>& ssl,
                                               const std::optional<Duration>& handshake_timeout,
                                               const std::optional<Duration>& shutdown_timeout,
                                               const char* method);
/// Wraps a server's protocol factory so that each connection speaks TLS (the factory as it is
/// without `ssl`; std::invalid_argument then if a TLS option is set anyway).
ProtocolFactory tls_server_factory(EventLoop& loop, ProtocolFactory factory,
                                   const ServerOptions& options);

class SSLProtocol final : public Protocol,
                          public LoopResource,
                          public std::enable_shared_from_this<SSLProtocol> {
 public:
  /// std::invalid_argument for a context of the wrong side, or a client context that checks
  /// host names without a server_hostname. `call_connection_made` is false for start_tls (the
  /// application's protocol is already connected).
  SSLProtocol(EventLoop& loop, std::shared_ptr<BaseProtocol> app_protocol, TLSSettings settings,
              bool call_connection_made = true);
  ~SSLProtocol() override;

  /// Completes when the handshake does, failing with its error (create_connection, start_tls).
  Future<void> handshake_done();

  // ---- the TCP transport's side ----
  void connection_made(std::shared_ptr<Transport> transport) override;
  void data_received(std::string_view data) override;
  bool eof_received() override;
  void connection_lost(std::exception_ptr error) override;
  void pause_writing() override { ssl_writing_paused_ = true; }
  void resume_writing() override;

  // ---- the application transport's side ----
  std::shared_ptr<Transport> app_transport();
  void app_write(std::string_view data);
  void app_close();
  void app_abort();
  bool app_closing() const noexcept { return app_closed_; }
  void app_pause_reading();
  void app_resume_reading();
  bool app_reading() const noexcept { return !app_reading_paused_ && !app_closed_; }
  bool app_writing_paused() const noexcept { return app_writing_paused_; }
  std::size_t app_write_buffer_size() const noexcept;
  void set_app_write_buffer_limits(std::optional<std::int64_t> high,
                                   std::optional<std::int64_t> low);
  std::pair<std::size_t, std::size_t> app_write_buffer_limits() const noexcept {
    return {low_, high_};
  }
  void set_app_protocol(std::shared_ptr<BaseProtocol> protocol);
  std::shared_ptr<BaseProtocol> app_protocol() const { return app_protocol_; }
  std::any extra_info(std::string_view key) const;

  void loop_closing() noexcept override;

 private:
  enum class State : std::uint8_t {
    unstarted,
    handshaking,
    wrapped,
    flushing,
    shutting_down,
    closed
  };
  enum class AppState : std::uint8_t { unmade, made, lost };

  void do_handshake();
  void on_handshake_timeout();
  void handshake_finished(std::exception_ptr error);
  void do_read();
  bool deliver_one();
  void do_write();
  void process_outgoing(bool force = false);
  void control_app_writing();
  void start_shutdown();
  void do_flush();
  void do_shutdown();
  bool discard_incoming();
  void shutdown_finished(std::exception_ptr error);
  void fail(std::exception_ptr error, const char* message);
  void report(std::exception_ptr error, const char* message);
  void cancel_timer();
  void unregister() noexcept;

  EventLoop& loop_;
  TLSSettings settings_;
  ssl_st* ssl_ = nullptr;
  SSLBuffers io_;  // the records on their way in and out (ssl_bio.hpp)
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<BaseProtocol> app_protocol_;
  Protocol* app_stream_ = nullptr;
  BufferedProtocol* app_buffered_ = nullptr;
  // The application's transport, held while the connection lives (as a transport holds
  // itself): a StreamReader keeps only a raw pointer to it.
  std::shared_ptr<Transport> app_transport_;
  std::optional<Future<void>> waiter_;
  std::optional<TimerHandle> timer_;  // the handshake's, then the shutdown's
  std::exception_ptr error_;          // what the application's connection_lost will get
  std::string backlog_;               // plaintext not yet given to OpenSSL
  std::size_t backlog_offset_ = 0;
  std::size_t high_ = 64 * 1024;
  std::size_t low_ = 16 * 1024;
  State state_ = State::unstarted;
  AppState app_state_ = AppState::unmade;
  bool call_connection_made_;
  bool app_closed_ = false;
  bool app_reading_paused_ = false;
  bool app_writing_paused_ = false;
  bool ssl_writing_paused_ = false;  // the TCP transport is over its high-water mark
  bool peer_eof_ = false;            // the TCP stream ended (without close_notify)
  bool finished_ = false;            // connection_lost (or the loop's closing) has run
};

}  // namespace aio::detail
