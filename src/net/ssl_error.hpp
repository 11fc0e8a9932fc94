// OpenSSL's error queue as aio's exceptions: SSLError with OpenSSL's reason, and
// SSLCertVerificationError with the verification result and Python's wording for a name that
// does not match.
#pragma once

#include <exception>
#include <optional>
#include <string>

#include "aio/ssl.hpp"

namespace aio::detail {

/// The earliest error on this thread's OpenSSL queue as an SSLError ("<what>: <reason>"); the
/// queue is cleared. Without a queued error, "<what>" alone.
SSLError ssl_error_from_queue(const std::string& what);

/// The error a failed SSL_do_handshake/SSL_read/SSL_write/SSL_shutdown (`ret`, with SSL_get_error
/// giving `ssl_error`) stands for: an SSLCertVerificationError when the peer's certificate was
/// rejected, else an SSLError naming OpenSSL's reason. `hostname` is what the certificate was
/// checked against.
std::exception_ptr ssl_failure(ssl_st* ssl, int ret, int ssl_error, const std::string& what,
                               const std::optional<std::string>& hostname);

/// ConnectionResetError, as asyncio raises when a TLS peer vanishes during the handshake.
std::exception_ptr connection_reset_error(const std::string& what);

}  // namespace aio::detail
