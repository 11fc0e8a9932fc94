#include "net/ssl_bio.hpp"

#include <openssl/bio.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "net/buffer_memory.hpp"

namespace aio::detail {

void SSLBuffers::keep_fresh() {
  if (fresh.empty()) return;
  if (held_offset == held.size()) {
    empty_buffer(held);
    held_offset = 0;
  }
  held.append(fresh);
  fresh = {};
}

void SSLBuffers::consumed_out(std::size_t n) {
  out_offset += n;
  if (out_offset == out.size()) {
    empty_buffer(out);  // a burst's records do not stay allocated
    out_offset = 0;
  } else if (out_offset > 64 * 1024 && out_offset * 2 > out.size()) {
    out.erase(0, out_offset);  // keep the front from growing without bound
    out_offset = 0;
  }
}

namespace {

SSLBuffers* buffers(BIO* b) {
  return static_cast<SSLBuffers*>(BIO_get_data(b));
}

int bio_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  if (!buffers(b)) return -1;  // the connection is gone (an SSLObject outlived it)
  if (len <= 0) return 0;
  buffers(b)->out.append(data, static_cast<std::size_t>(len));
  return len;
}

int bio_read(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  if (!buffers(b)) return -1;
  SSLBuffers& io = *buffers(b);
  std::size_t want = len > 0 ? static_cast<std::size_t>(len) : 0;
  std::size_t n = 0;
  if (io.held_offset < io.held.size()) {
    n = std::min(want, io.held.size() - io.held_offset);
    std::memcpy(data, io.held.data() + io.held_offset, n);
    io.held_offset += n;
    if (io.held_offset == io.held.size()) {
      empty_buffer(io.held);
      io.held_offset = 0;
    }
  }
  if (n < want && !io.fresh.empty()) {
    const std::size_t m = std::min(want - n, io.fresh.size());
    std::memcpy(data + n, io.fresh.data(), m);
    io.fresh.remove_prefix(m);
    n += m;
  }
  if (n == 0) {
    BIO_set_retry_read(b);  // nothing yet: OpenSSL says WANT_READ
    return -1;
  }
  return static_cast<int>(n);
}

long bio_ctrl(BIO* b, int cmd, long, void*) {
  const SSLBuffers* io = buffers(b);
  switch (cmd) {
    case BIO_CTRL_PENDING:
      return io ? static_cast<long>(io->incoming()) : 0;
    case BIO_CTRL_WPENDING:
      return io ? static_cast<long>(io->outgoing()) : 0;
    case BIO_CTRL_FLUSH:
      return 1;
    default:
      return 0;
  }
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

// Made once per process, shared by every connection (OpenSSL's methods are static too).
const BIO_METHOD* method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "aio buffers");
    if (!made) throw std::runtime_error("BIO_meth_new failed");
    BIO_meth_set_write(made, bio_write);
    BIO_meth_set_read(made, bio_read);
    BIO_meth_set_ctrl(made, bio_ctrl);
    BIO_meth_set_create(made, bio_create);
    return made;
  }();
  return m;
}

}  // namespace

BIO* make_ssl_bio(SSLBuffers* io) {
  BIO* b = BIO_new(method());
  if (!b) throw std::runtime_error("BIO_new failed");
  BIO_set_data(b, io);
  return b;
}

}  // namespace aio::detail
