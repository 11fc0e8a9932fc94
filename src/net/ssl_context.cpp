// aio::SSLContext on OpenSSL 3: Python's ssl.SSLContext and create_default_context().
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <system_error>

#include "aio/ssl.hpp"
#include "net/ssl_error.hpp"

namespace aio {

namespace {

int openssl_version(TLSVersion v) {
  switch (v) {
    case TLSVersion::tls1:
      return TLS1_VERSION;
    case TLSVersion::tls1_1:
      return TLS1_1_VERSION;
    case TLSVersion::tls1_2:
      return TLS1_2_VERSION;
    case TLSVersion::tls1_3:
      return TLS1_3_VERSION;
    case TLSVersion::minimum_supported:
    case TLSVersion::maximum_supported:
      break;
  }
  return 0;  // OpenSSL's "no bound"
}

TLSVersion from_openssl(int v, TLSVersion unbounded) {
  switch (v) {
    case TLS1_VERSION:
      return TLSVersion::tls1;
    case TLS1_1_VERSION:
      return TLSVersion::tls1_1;
    case TLS1_2_VERSION:
      return TLSVersion::tls1_2;
    case TLS1_3_VERSION:
      return TLSVersion::tls1_3;
    default:
      return unbounded;
  }
}

void check_file(const std::string& path, const char* operation) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw std::system_error(err, std::system_category(), std::string(operation) + "(" + path + ")");
  }
}

// The server's ALPN choice: the first of our protocols the client offers too (Python's
// preference order), or no ALPN at all when none matches, as Python does.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  const auto* wire = static_cast<const std::string*>(arg);
  if (wire->empty()) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, reinterpret_cast<const unsigned char*>(wire->data()),
                            static_cast<unsigned int>(wire->size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// The ALPN list in wire format, kept where the server callback finds it.
std::string& alpn_wire(SSL_CTX* ctx) {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(ptr);
      });
  auto* wire = static_cast<std::string*>(SSL_CTX_get_ex_data(ctx, index));
  if (!wire) {
    wire = new std::string;
    SSL_CTX_set_ex_data(ctx, index, wire);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, wire);
  }
  return *wire;
}

}  // namespace

SSLContext::SSLContext(TLSProtocol protocol) : protocol_(protocol) {
  ERR_clear_error();
  ctx_ =
      SSL_CTX_new(protocol == TLSProtocol::tls_client ? TLS_client_method() : TLS_server_method());
  if (!ctx_) throw detail::ssl_error_from_queue("SSLContext(): SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx_, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Writes are retried from wherever the buffer is now (aio's write backlog may move).
  SSL_CTX_set_mode(ctx_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (protocol == TLSProtocol::tls_client) {
    check_hostname_ = true;
    verify_mode_ = VerifyMode::required;
  }
  set_verify_mode(verify_mode_);
}

SSLContext::~SSLContext() {
  SSL_CTX_free(ctx_);
}

void SSLContext::load_cert_chain(const std::string& certfile,
                                 const std::optional<std::string>& keyfile) {
  check_file(certfile, "load_cert_chain");
  const std::string& key = keyfile ? *keyfile : certfile;
  if (keyfile) check_file(*keyfile, "load_cert_chain");
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx_, certfile.c_str()) != 1) {
    throw detail::ssl_error_from_queue("load_cert_chain(" + certfile + ")");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw detail::ssl_error_from_queue("load_cert_chain(" + key + "): the private key");
  }
  if (SSL_CTX_check_private_key(ctx_) != 1) {
    throw detail::ssl_error_from_queue("load_cert_chain(" + key + ")");
  }
}

void SSLContext::load_verify_locations(const std::optional<std::string>& cafile,
                                       const std::optional<std::string>& capath,
                                       const std::optional<std::string>& cadata) {
  if (!cafile && !capath && !cadata) {
    throw std::invalid_argument(
        "load_verify_locations(): cafile, capath and cadata cannot be all omitted");
  }
  if (cafile) check_file(*cafile, "load_verify_locations");
  if (capath) check_file(*capath, "load_verify_locations");
  ERR_clear_error();
  if ((cafile || capath) &&
      SSL_CTX_load_verify_locations(ctx_, cafile ? cafile->c_str() : nullptr,
                                    capath ? capath->c_str() : nullptr) != 1) {
    throw detail::ssl_error_from_queue("load_verify_locations(" + (cafile ? *cafile : *capath) +
                                       ")");
  }
  if (cadata) {
    BIO* bio = BIO_new_mem_buf(cadata->data(), static_cast<int>(cadata->size()));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
    int loaded = 0;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, cert);
      X509_free(cert);
      ++loaded;
    }
    BIO_free(bio);
    ERR_clear_error();  // the end of the data reads as an error
    if (loaded == 0) throw SSLError("load_verify_locations(): no certificate in cadata");
  }
}

void SSLContext::set_default_verify_paths() {
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
    throw detail::ssl_error_from_queue("set_default_verify_paths()");
  }
}

void SSLContext::set_ciphers(const std::string& ciphers) {
  ERR_clear_error();
  if (SSL_CTX_set_cipher_list(ctx_, ciphers.c_str()) != 1) {
    throw detail::ssl_error_from_queue("set_ciphers(" + ciphers + "): No cipher can be selected");
  }
}

void SSLContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) {
      throw std::invalid_argument("set_alpn_protocols(): a protocol name is 1 to 255 bytes");
    }
    wire += static_cast<char>(p.size());
    wire += p;
  }
  alpn_wire(ctx_) = wire;
  // Offered by a client (0 is success here, unlike the rest of OpenSSL).
  if (SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned int>(wire.size())) != 0) {
    throw detail::ssl_error_from_queue("set_alpn_protocols()");
  }
}

void SSLContext::set_check_hostname(bool on) {
  if (on && verify_mode_ == VerifyMode::none) set_verify_mode(VerifyMode::required);
  check_hostname_ = on;
}

void SSLContext::set_verify_mode(VerifyMode mode) {
  if (mode == VerifyMode::none && check_hostname_) {
    throw std::invalid_argument(
        "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
  }
  verify_mode_ = mode;
  int flags = SSL_VERIFY_NONE;
  if (mode == VerifyMode::optional) flags = SSL_VERIFY_PEER;
  if (mode == VerifyMode::required) {
    flags = SSL_VERIFY_PEER | (server_side() ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
  }
  SSL_CTX_set_verify(ctx_, flags, nullptr);
}

TLSVersion SSLContext::minimum_version() const noexcept {
  return from_openssl(static_cast<int>(SSL_CTX_get_min_proto_version(ctx_)),
                      TLSVersion::minimum_supported);
}

void SSLContext::set_minimum_version(TLSVersion version) {
  SSL_CTX_set_min_proto_version(ctx_, openssl_version(version));
}

TLSVersion SSLContext::maximum_version() const noexcept {
  return from_openssl(static_cast<int>(SSL_CTX_get_max_proto_version(ctx_)),
                      TLSVersion::maximum_supported);
}

void SSLContext::set_maximum_version(TLSVersion version) {
  SSL_CTX_set_max_proto_version(ctx_, openssl_version(version));
}

std::shared_ptr<SSLContext> create_default_context(Purpose purpose,
                                                   const std::optional<std::string>& cafile) {
  auto ctx = std::make_shared<SSLContext>(
      purpose == Purpose::server_auth ? TLSProtocol::tls_client : TLSProtocol::tls_server);
  if (cafile) {
    ctx->load_verify_locations(cafile);
  } else {
    ctx->set_default_verify_paths();
  }
  return ctx;
}

}  // namespace aio
