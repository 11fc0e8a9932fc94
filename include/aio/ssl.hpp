// aio/ssl.hpp — TLS for transports and streams: what asyncio takes from Python's ssl module.
//
// An SSLContext holds the settings every connection made with it shares (certificates, trusted
// CAs, verification, ALPN, protocol versions), on OpenSSL 3. It is passed as a shared_ptr to
// `ConnectOptions::ssl` / `ServerOptions::ssl` (asyncio's `ssl=`), to EventLoop::start_tls and
// StreamWriter::start_tls. TLS runs in memory over the ordinary transport, as asyncio's
// sslproto does, so it works on every I/O backend.
//
//   Python                                         aio
//   ctx = ssl.create_default_context()             auto ctx = aio::create_default_context();
//   ctx.load_verify_locations(cafile="ca.pem")     ctx->load_verify_locations("ca.pem");
//   s = ssl.create_default_context(                auto s = aio::create_default_context(
//         ssl.Purpose.CLIENT_AUTH)                         aio::Purpose::client_auth);
//   s.load_cert_chain("cert.pem", "key.pem")       s->load_cert_chain("cert.pem", "key.pem");
//   ctx.check_hostname = False                     ctx->set_check_hostname(false);
//   ctx.verify_mode = ssl.CERT_NONE                ctx->set_verify_mode(aio::VerifyMode::none);
//   ssl.SSLError, ssl.SSLCertVerificationError     aio::SSLError, aio::SSLCertVerificationError
//
// A context may be shared by any number of connections and loops once it is set up; changing it
// affects connections made afterwards. No OpenSSL header is included here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace aio {

/// ssl.SSLError: a TLS failure. what() is OpenSSL's reason ("wrong version number", "tlsv1
/// alert unknown ca"), prefixed with what was being done.
class SSLError : public std::runtime_error {
 public:
  SSLError(const std::string& what, std::string library_name = {}, std::string reason_text = {},
           unsigned long code = 0)
      : std::runtime_error(what),
        library(std::move(library_name)),
        reason(std::move(reason_text)),
        error_code(code) {}
  std::string library;           ///< OpenSSL's library name ("SSL routines"); may be empty
  std::string reason;            ///< OpenSSL's reason ("certificate verify failed"); may be empty
  unsigned long error_code = 0;  ///< OpenSSL's packed error code (ERR_get_error), 0 if none
  int library_code() const noexcept;
  int reason_code() const noexcept;
};

/// ssl.SSLCertVerificationError: the peer's certificate was rejected. verify_message is
/// OpenSSL's ("certificate has expired", "self-signed certificate", "unable to get local issuer
/// certificate") or, for a name that does not match, "Hostname mismatch, certificate is not
/// valid for 'example.com'." as Python says it.
class SSLCertVerificationError : public SSLError {
 public:
  SSLCertVerificationError(const std::string& what, long code, std::string message)
      : SSLError(what, "SSL routines", "certificate verify failed"),
        verify_code(code),
        verify_message(std::move(message)) {}
  long verify_code;  ///< X509_V_ERR_* (10: expired, 18: self-signed, 20: unknown issuer, ...)
  std::string verify_message;
};

/// ssl.Purpose: what a default context is for. server_auth makes a client context (it
/// authenticates servers), client_auth a server context.
enum class Purpose : std::uint8_t { server_auth, client_auth };

/// ssl.PROTOCOL_TLS_CLIENT / PROTOCOL_TLS_SERVER.
enum class TLSProtocol : std::uint8_t { tls_client, tls_server };

/// ssl.CERT_NONE / CERT_OPTIONAL / CERT_REQUIRED.
enum class VerifyMode : std::uint8_t { none, optional, required };

/// ssl.TLSVersion.
enum class TLSVersion : std::uint8_t {
  minimum_supported,
  tls1,
  tls1_1,
  tls1_2,
  tls1_3,
  maximum_supported
};

/// ssl.SSLContext. Not copyable: share it through a shared_ptr.
class SSLContext : public std::enable_shared_from_this<SSLContext> {
 public:
  /// A client context verifies the server (check_hostname on, VerifyMode::required) but trusts
  /// no CA until told (load_verify_locations, set_default_verify_paths); a server context asks
  /// nothing of clients. Both refuse anything older than TLS 1.2, as Python's defaults do.
  explicit SSLContext(TLSProtocol protocol);
  ~SSLContext();
  SSLContext(const SSLContext&) = delete;
  SSLContext& operator=(const SSLContext&) = delete;

  /// Our certificate chain and its private key (PEM files; the key may be in `certfile`).
  /// std::system_error if a file is missing, SSLError if OpenSSL refuses it.
  void load_cert_chain(const std::string& certfile, const std::optional<std::string>& keyfile = {});
  /// CAs to trust: a PEM file, a directory of hashed names (c_rehash), and/or PEM text.
  void load_verify_locations(const std::optional<std::string>& cafile,
                             const std::optional<std::string>& capath = {},
                             const std::optional<std::string>& cadata = {});
  /// The system's CA bundle (Debian: /etc/ssl/certs).
  void set_default_verify_paths();
  /// OpenSSL cipher list for TLS 1.2 and older ("ECDHE+AESGCM").
  void set_ciphers(const std::string& ciphers);
  /// ALPN protocols to offer (client) or accept (server), in order of preference.
  void set_alpn_protocols(const std::vector<std::string>& protocols);

  /// Checking the peer's name against server_hostname. Turning it on makes verify_mode
  /// required if it was none, as Python does.
  bool check_hostname() const noexcept { return check_hostname_; }
  void set_check_hostname(bool on);
  /// std::invalid_argument for VerifyMode::none while check_hostname is on (Python's
  /// ValueError "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.").
  VerifyMode verify_mode() const noexcept { return verify_mode_; }
  void set_verify_mode(VerifyMode mode);
  TLSVersion minimum_version() const noexcept;
  void set_minimum_version(TLSVersion version);
  TLSVersion maximum_version() const noexcept;
  void set_maximum_version(TLSVersion version);

  TLSProtocol protocol() const noexcept { return protocol_; }
  bool server_side() const noexcept { return protocol_ == TLSProtocol::tls_server; }
  /// The OpenSSL context, for settings this class does not cover.
  ssl_ctx_st* native_handle() const noexcept { return ctx_; }

 private:
  ssl_ctx_st* ctx_ = nullptr;
  TLSProtocol protocol_;
  bool check_hostname_ = false;
  VerifyMode verify_mode_ = VerifyMode::none;
};

/// ssl.create_default_context(): a client context (Purpose::server_auth) that trusts the system's
/// CAs, or `cafile` instead when given; or a server context (Purpose::client_auth).
std::shared_ptr<SSLContext> create_default_context(Purpose purpose = Purpose::server_auth,
                                                   const std::optional<std::string>& cafile = {});

/// The fields of a peer certificate, as ssl.SSLObject.getpeercert() gives them. Names are
/// OpenSSL's long names, as Python's ("commonName", "organizationName"); each RDN's pairs are
/// flattened in order (Python nests them in tuples). Times are in Python's format
/// ("Jan  5 09:34:43 2031 GMT").
struct PeerCertificate {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  Pairs subject;
  Pairs issuer;
  int version = 0;            ///< 3 for X.509 v3
  std::string serial_number;  ///< upper-case hex
  std::string not_before;     ///< notBefore
  std::string not_after;      ///< notAfter
  Pairs subject_alt_name;     ///< ("DNS", "localhost"), ("IP Address", "127.0.0.1"), ...
  /// The first commonName of the subject, or "".
  std::string common_name() const;
};

/// get_extra_info("cipher"): (name, protocol, secret bits), as Python's tuple.
using CipherInfo = std::tuple<std::string, std::string, int>;

/// ssl.SSLObject: a live TLS connection, from get_extra_info("ssl_object"). A handle: copies
/// share the connection's state, which it keeps alive.
class SSLObject {
 public:
  SSLObject() = default;
  explicit SSLObject(ssl_st* ssl, std::optional<std::string> server_hostname = {});
  SSLObject(const SSLObject& other);
  SSLObject& operator=(const SSLObject& other);
  SSLObject(SSLObject&& other) noexcept;
  SSLObject& operator=(SSLObject&& other) noexcept;
  ~SSLObject();

  /// "TLSv1.3", "TLSv1.2", ...
  std::string version() const;
  std::optional<CipherInfo> cipher() const;
  /// The protocol ALPN settled on, or nullopt if none was.
  std::optional<std::string> selected_alpn_protocol() const;
  /// The peer's certificate, or nullopt when it sent none (a client without one). A
  /// certificate that was not verified (VerifyMode::none) gives an empty PeerCertificate, no
  /// fields, as Python's {}: nothing in it was checked.
  std::optional<PeerCertificate> getpeercert() const;
  /// The certificate DER-encoded, verified or not ("" when none):
  /// getpeercert(binary_form=True).
  std::string getpeercert_der() const;
  const std::optional<std::string>& server_hostname() const noexcept { return server_hostname_; }
  bool server_side() const noexcept;
  ssl_st* native_handle() const noexcept { return ssl_; }

 private:
  ssl_st* ssl_ = nullptr;
  std::optional<std::string> server_hostname_;
};

}  // namespace aio
