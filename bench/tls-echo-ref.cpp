// tls-echo-ref: a TLS echo server written straight on OpenSSL and epoll, the reference for aio's
// TLS echo server as ../shared/bench's raw epoll server is for the plain one: one thread,
// level-triggered epoll, one SSL object per connection on its non-blocking socket, each read
// written back at once (and reading paused while a write waits for the socket), no read that
// epoll has not announced.
//
// Usage: tls-echo-ref echo-server-tls PORT   (AIO_TLS_CERT, AIO_TLS_KEY: PEM certificate, key)
// The same contract as aio-bench's echo-server-tls: listens on 127.0.0.1:PORT (backlog 1024,
// TCP_NODELAY), prints {"workload":"echo-server-tls","impl":"openssl-ref","port":PORT,
// "ready":true} when listening, serves until SIGTERM or SIGINT, exits 0. A client that closes
// at any point (the harness's readiness probe) only loses its own connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t stop = 0;

void on_signal(int) {
  stop = 1;
}

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  bool open = false;               // handshake done
  bool want_out = false;           // registered for EPOLLOUT
  std::vector<unsigned char> out;  // bytes read and not yet written back
  std::size_t out_off = 0;
};

int ep = -1;
std::vector<std::unique_ptr<Conn>> conns;  // by fd

void drop(Conn& c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
  SSL_free(c.ssl);
  close(c.fd);
  conns[static_cast<std::size_t>(c.fd)].reset();
}

// Registers c for EPOLLOUT (and not EPOLLIN: reading waits for the write) or back for EPOLLIN.
void want_out(Conn& c, bool out) {
  if (c.want_out == out) return;
  epoll_event ev{};
  ev.events = out ? EPOLLOUT : EPOLLIN;
  ev.data.fd = c.fd;
  epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_out = out;
}

// false: the connection is finished (closed by the peer or failed)
bool retry_or_fail(Conn& c, int ret) {
  switch (SSL_get_error(c.ssl, ret)) {
    case SSL_ERROR_WANT_READ:
      want_out(c, false);
      return true;
    case SSL_ERROR_WANT_WRITE:
      want_out(c, true);
      return true;
    default:
      ERR_clear_error();
      return false;
  }
}

// Writes what is pending; true when all of it is out.
bool flush(Conn& c, bool& alive) {
  while (c.out_off < c.out.size()) {
    std::size_t w = 0;
    int r = SSL_write_ex(c.ssl, c.out.data() + c.out_off, c.out.size() - c.out_off, &w);
    if (r != 1) {
      alive = retry_or_fail(c, r);
      return false;
    }
    c.out_off += w;
  }
  c.out.clear();
  c.out_off = 0;
  return true;
}

void serve(Conn& c) {
  bool alive = true;
  if (!c.open) {
    int r = SSL_accept(c.ssl);
    if (r != 1) {
      if (!retry_or_fail(c, r)) drop(c);
      return;
    }
    c.open = true;
    want_out(c, false);
  }
  if (!flush(c, alive)) {
    if (!alive) drop(c);
    return;
  }
  want_out(c, false);
  unsigned char buf[65536];
  for (;;) {
    std::size_t n = 0;
    int r = SSL_read_ex(c.ssl, buf, sizeof buf, &n);
    if (r != 1) {
      if (!retry_or_fail(c, r)) drop(c);
      return;
    }
    std::size_t off = 0;
    while (off < n) {
      std::size_t w = 0;
      int wr = SSL_write_ex(c.ssl, buf + off, n - off, &w);
      if (wr != 1) {
        c.out.assign(buf + off, buf + n);  // the rest goes out when the socket takes it
        if (!retry_or_fail(c, wr)) drop(c);
        return;
      }
      off += w;
    }
    // nothing buffered in OpenSSL: wait for epoll rather than try a read that would find the
    // socket empty (one read and one write per message, as the raw epoll server does)
    if (!SSL_has_pending(c.ssl)) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "echo-server-tls") != 0) {
    std::fputs("usage: tls-echo-ref echo-server-tls PORT (AIO_TLS_CERT, AIO_TLS_KEY)\n", stderr);
    return 2;
  }
  const int port = std::atoi(argv[2]);
  const char* cert = std::getenv("AIO_TLS_CERT");
  const char* key = std::getenv("AIO_TLS_KEY");
  if (!cert || !key) {
    std::fputs("tls-echo-ref: AIO_TLS_CERT and AIO_TLS_KEY must name PEM files\n", stderr);
    return 2;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(lfd, 1024) < 0) {
    std::perror("tls-echo-ref: listen");
    return 1;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  std::printf(
      "{\"workload\":\"echo-server-tls\",\"impl\":\"openssl-ref\",\"port\":%d,\"ready\":true,"
      "\"openssl\":\"%s\"}\n",
      port, OpenSSL_version(OPENSSL_VERSION));
  std::fflush(stdout);

  epoll_event evs[512];
  while (!stop) {
    int n = epoll_wait(ep, evs, 512, -1);
    for (int k = 0; k < n; k++) {
      const int fd = evs[k].data.fd;
      if (fd == lfd) {
        for (;;) {
          int cfd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          if (conns.size() <= static_cast<std::size_t>(cfd))
            conns.resize(static_cast<std::size_t>(cfd) + 1);
          auto c = std::make_unique<Conn>();
          c->fd = cfd;
          c->ssl = SSL_new(ctx);
          SSL_set_fd(c->ssl, cfd);
          SSL_set_accept_state(c->ssl);
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.fd = cfd;
          epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
          conns[static_cast<std::size_t>(cfd)] = std::move(c);
        }
        continue;
      }
      if (static_cast<std::size_t>(fd) < conns.size() && conns[static_cast<std::size_t>(fd)])
        serve(*conns[static_cast<std::size_t>(fd)]);
    }
  }
  for (auto& c : conns)
    if (c) drop(*c);
  SSL_CTX_free(ctx);
  return 0;
}
