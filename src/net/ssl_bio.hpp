// The BIO a TLS connection's records pass through, in memory (what asyncio does with two
// ssl.MemoryBIOs): OpenSSL reads what arrived straight from the transport's buffer, during
// data_received(), and keeps only what it left for later; it writes records into a string the
// SSLProtocol hands to the transport. OpenSSL's own memory BIO would copy each way and
// zero-fill its buffer first.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

typedef struct bio_st BIO;  // NOLINT(modernize-use-using): OpenSSL's own spelling

namespace aio::detail {

struct SSLBuffers {
  std::string_view fresh;  // what the current data_received() brought, not yet read
  std::string held;        // older bytes not yet read: read before `fresh`
  std::size_t held_offset = 0;
  std::string out;  // records written, not yet given to the transport
  std::size_t out_offset = 0;

  std::size_t incoming() const noexcept { return held.size() - held_offset + fresh.size(); }
  std::size_t outgoing() const noexcept { return out.size() - out_offset; }
  /// The end of data_received(): what OpenSSL did not read of `fresh` is kept.
  void keep_fresh();
  /// `n` bytes of `out` went to the transport.
  void consumed_out(std::size_t n);
};

/// A BIO over `buffers` (which must outlive it) for both directions; SSL_set_bio(ssl, b, b)
/// takes it.
BIO* make_ssl_bio(SSLBuffers* buffers);

}  // namespace aio::detail
