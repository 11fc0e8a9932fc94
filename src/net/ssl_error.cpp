#include "net/ssl_error.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <system_error>

namespace aio {

int SSLError::library_code() const noexcept {
  return ERR_GET_LIB(error_code);
}

int SSLError::reason_code() const noexcept {
  return ERR_GET_REASON(error_code);
}

namespace detail {

SSLError ssl_error_from_queue(const std::string& what) {
  const unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (code == 0) return SSLError(what);
  const char* lib = ERR_lib_error_string(code);
  const char* reason = ERR_reason_error_string(code);
  std::string reason_text = reason ? reason : "error " + std::to_string(ERR_GET_REASON(code));
  return SSLError(what + ": " + reason_text, lib ? lib : "", reason_text, code);
}

std::exception_ptr ssl_failure(ssl_st* ssl, int ret, int ssl_error, const std::string& what,
                               const std::optional<std::string>& hostname) {
  const unsigned long code = ERR_peek_error();
  if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    ERR_clear_error();
    const long verify = SSL_get_verify_result(ssl);
    std::string message = X509_verify_cert_error_string(verify);
    // Python's wording for a name the certificate does not cover.
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH) {
      message = "Hostname mismatch, certificate is not valid for '" + hostname.value_or("") + "'.";
    } else if (verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      message =
          "IP address mismatch, certificate is not valid for '" + hostname.value_or("") + "'.";
    }
    return std::make_exception_ptr(SSLCertVerificationError(
        what + ": certificate verify failed: " + message, verify, message));
  }
  if (code != 0) return std::make_exception_ptr(ssl_error_from_queue(what));
  // No queued error: the peer vanished (SSL_ERROR_SYSCALL with errno, or an EOF OpenSSL saw).
  if (ssl_error == SSL_ERROR_SYSCALL && ret == 0) {
    return connection_reset_error(what + ": the peer closed the connection");
  }
  return std::make_exception_ptr(SSLError(what + ": SSL error " + std::to_string(ssl_error)));
}

std::exception_ptr connection_reset_error(const std::string& what) {
  return std::make_exception_ptr(std::system_error(ECONNRESET, std::system_category(), what));
}

}  // namespace detail
}  // namespace aio
