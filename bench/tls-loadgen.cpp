// tls-loadgen: the ping-pong load generator of ../shared/bench (src/loadgen/loadgen.c) over TLS.
//
// Opens C connections to HOST:PORT and completes every TLS handshake first (handshakes are
// outside the warm-up and the measured window). Then each connection sends an S-byte message,
// waits until the whole message has come back (checked byte for byte), and sends the next. After
// W seconds of warm-up it counts, for D seconds, the round trips that complete and records each
// one's latency (from the first SSL_write of the message to the SSL_read of its last byte).
//
// With -r RATE the load is open at a fixed total rate: a connection whose echo is back waits in a
// FIFO of idle connections until the next send is due, sends being spaced 1/RATE s apart over all
// connections. One thread, level-triggered epoll, non-blocking sockets; each connection keeps its
// own state (bytes written and read of the current message, which direction OpenSSL waits for).
//
// Usage: tls-loadgen [-h HOST] -p PORT [-c CONNS] [-s SIZE] [-d SECONDS] [-w WARMUP] [-r RATE]
//                    [-k | --cafile FILE] [--sni NAME] [--tls 1.2|1.3] [--plain]
//                    [--server-pid PID]...
//   -k             no certificate verification (the default)
//   --cafile FILE  verify the server's certificate against FILE (and its name, with --sni)
//   --sni NAME     server name sent in the handshake (and checked with --cafile)
//   --tls V        protocol version, exactly (default 1.3)
//   --plain        no TLS at all: the same generator over plain TCP, for a like-for-like baseline
//   --server-pid   read this process's CPU time (utime+stime, all threads, /proc/PID/stat) at the
//                  start and the end of the measured window; repeatable
//
// Prints one JSON line: the keys of loadgen.c's ("workload", "conns", "size", "duration_s",
// "warmup_s", "requests", "rps", "mb_per_s", "mean_us", "p50_us", "p90_us", "p99_us",
// "p999_us", "max_us", "total_requests", "rate", "loadgen_cpu_pct", "errors") plus "tls"
// (version or "none"), "cipher", "handshake_s" (all handshakes, wall) and, with --server-pid,
// "server_cpu_s", "server_cpu_pct" and "server_cpu_us_per_req" over the measured window.
// Exit status: 0 ok, 1 connection, handshake or echo error (still one JSON line, with "error"),
// 2 usage.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr int exit_error = 1;
constexpr int exit_usage = 2;

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int conns = 100;
  std::size_t size = 64;
  double duration = 5.0;
  double warmup = 1.0;
  double rate = 0.0;
  bool plain = false;
  std::string cafile;
  std::string sni;
  int version = TLS1_3_VERSION;
  std::vector<int> server_pids;
};

// What a connection's next step waits for.
enum class Wait { none, readable, writable };

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  bool handshaken = false;
  std::uint64_t seq = 0;
  std::size_t sent = 0;         // bytes of the current message written so far
  std::size_t got = 0;          // bytes of the echo received so far
  bool busy = false;            // a message is in flight
  bool want_out = false;        // registered for EPOLLOUT
  bool read_wants_out = false;  // OpenSSL's read waits for the socket to be writable
  std::uint64_t t_send = 0;
  std::vector<unsigned char> msg;
  std::vector<unsigned char> rx;
};

struct Failure {
  const char* why;
};

[[noreturn]] void usage() {
  std::fputs(
      "usage: tls-loadgen [-h HOST] -p PORT [-c CONNS] [-s SIZE] [-d SECONDS] [-w WARMUP]\n"
      "                   [-r RATE] [-k | --cafile FILE] [--sni NAME] [--tls 1.2|1.3] [--plain]\n"
      "                   [--server-pid PID]...\n",
      stderr);
  std::exit(exit_usage);
}

// The CPU time (user+system, all threads) of the processes in pids, in seconds.
double procs_cpu_s(const std::vector<int>& pids) {
  const double tck = static_cast<double>(sysconf(_SC_CLK_TCK));
  double total = 0;
  for (int pid : pids) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    std::FILE* f = std::fopen(path, "r");
    if (!f) continue;
    char buf[1024];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // the command name (field 2) may hold spaces: fields are counted from its closing ')'
    const char* p = std::strrchr(buf, ')');
    if (!p) continue;
    unsigned long long utime = 0, stime = 0;
    // after ")": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
    // stime
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) == 2)
      total += static_cast<double>(utime + stime) / tck;
  }
  return total;
}

class Loadgen {
 public:
  explicit Loadgen(Options o) : o_(std::move(o)) {}
  ~Loadgen() {
    for (Conn& c : cs_) {
      if (c.ssl) SSL_free(c.ssl);
      if (c.fd >= 0) close(c.fd);
    }
    if (ctx_) SSL_CTX_free(ctx_);
    if (ep_ >= 0) close(ep_);
  }
  Loadgen(const Loadgen&) = delete;
  Loadgen& operator=(const Loadgen&) = delete;

  int run();

 private:
  void make_context();
  void connect_all();
  void handshake_all();
  void set_events(int idx, bool want_out);
  void start_send(int idx, std::uint64_t t);
  Wait pump_send(int idx);
  // Reads what is there of the echo; true when the whole message is back. wants_out: OpenSSL
  // needs the socket writable to go on reading.
  bool pump_recv(int idx, bool& wants_out);
  void on_event(int idx, std::uint32_t events);
  void complete(int idx);
  Wait wait_of(const Conn& c, int ret);
  void fail_json(const char* why) const;
  double pct_us(double p) const;

  Options o_;
  SSL_CTX* ctx_ = nullptr;
  int ep_ = -1;
  std::vector<Conn> cs_;
  std::vector<std::uint64_t> lat_;
  std::vector<int> idle_;  // rate mode: FIFO ring of idle connections
  std::size_t idle_head_ = 0, idle_n_ = 0;
  std::uint64_t t_measure_ = 0, t_end_ = 0;
  std::uint64_t count_ = 0, total_ = 0;
  double handshake_s_ = 0;
};

void Loadgen::make_context() {
  if (o_.plain) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_) throw Failure{"SSL_CTX_new failed"};
  SSL_CTX_set_min_proto_version(ctx_, o_.version);
  SSL_CTX_set_max_proto_version(ctx_, o_.version);
  // a partial SSL_write is finished from the same buffer; OpenSSL reads whole socket buffers
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx_, 1);
  // no session resumption: each connection does one full handshake, before the measurement
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  if (!o_.cafile.empty()) {
    if (SSL_CTX_load_verify_locations(ctx_, o_.cafile.c_str(), nullptr) != 1)
      throw Failure{"cannot load --cafile"};
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
}

void Loadgen::connect_all() {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o_.port));
  if (inet_pton(AF_INET, o_.host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "bad host %s (IPv4 address expected)\n", o_.host.c_str());
    std::exit(exit_usage);
  }
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) throw Failure{"epoll_create1 failed"};
  cs_.resize(static_cast<std::size_t>(o_.conns));
  const int one = 1;
  for (int i = 0; i < o_.conns; i++) {
    Conn& c = cs_[static_cast<std::size_t>(i)];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0 || connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      std::perror("connect");
      throw Failure{"connect failed"};
    }
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    c.msg.resize(o_.size);
    c.rx.resize(o_.size);
    // a fixed pattern; start_send stamps the connection id and sequence number over it, so a
    // misrouted or stale echo is caught
    for (std::size_t k = 0; k < o_.size; k++)
      c.msg[k] = static_cast<unsigned char>((k * 131u + static_cast<unsigned>(i) * 7u) & 0xffu);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) < 0) throw Failure{"epoll_ctl failed"};
    if (!o_.plain) {
      c.ssl = SSL_new(ctx_);
      if (!c.ssl || SSL_set_fd(c.ssl, c.fd) != 1) throw Failure{"SSL_new failed"};
      if (!o_.sni.empty()) {
        SSL_set_tlsext_host_name(c.ssl, o_.sni.c_str());
        if (!o_.cafile.empty()) SSL_set1_host(c.ssl, o_.sni.c_str());
      }
      SSL_set_connect_state(c.ssl);
    } else {
      c.handshaken = true;
    }
  }
}

void Loadgen::set_events(int idx, bool want_out) {
  Conn& c = cs_[static_cast<std::size_t>(idx)];
  if (c.want_out == want_out) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0u);
  ev.data.u32 = static_cast<std::uint32_t>(idx);
  epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_out = want_out;
}

// What OpenSSL (or the socket) waits for after a call that returned ret <= 0; throws on errors.
Wait Loadgen::wait_of(const Conn& c, int ret) {
  if (!c.ssl) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Wait::readable;
    throw Failure{"socket error"};
  }
  switch (SSL_get_error(c.ssl, ret)) {
    case SSL_ERROR_WANT_READ:
      return Wait::readable;
    case SSL_ERROR_WANT_WRITE:
      return Wait::writable;
    case SSL_ERROR_ZERO_RETURN:
      throw Failure{"server closed a connection"};
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0 && errno == 0) throw Failure{"server closed a connection"};
      break;
    default:
      break;
  }
  ERR_print_errors_fp(stderr);
  throw Failure{c.handshaken ? "TLS error" : "TLS handshake failed"};
}

void Loadgen::handshake_all() {
  if (o_.plain) return;
  const std::uint64_t t0 = now_ns();
  const std::uint64_t deadline = t0 + 30'000'000'000ull;
  std::size_t pending = cs_.size();
  auto step = [&](int idx) {
    Conn& c = cs_[static_cast<std::size_t>(idx)];
    if (c.handshaken) {
      on_event(idx, EPOLLIN);  // a session ticket, read while the others shake hands
      return;
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(c.ssl);
    if (r == 1) {
      c.handshaken = true;
      pending--;
      set_events(idx, false);
      return;
    }
    set_events(idx, wait_of(c, r) == Wait::writable);
  };
  for (int i = 0; i < o_.conns; i++) step(i);
  epoll_event evs[512];
  while (pending > 0) {
    const std::uint64_t t = now_ns();
    if (t >= deadline) throw Failure{"handshakes did not complete in 30 s"};
    int n = epoll_wait(ep_, evs, 512, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Failure{"epoll_wait failed"};
    }
    for (int k = 0; k < n; k++) step(static_cast<int>(evs[k].data.u32));
  }
  handshake_s_ = static_cast<double>(now_ns() - t0) / 1e9;
}

Wait Loadgen::pump_send(int idx) {
  Conn& c = cs_[static_cast<std::size_t>(idx)];
  while (c.sent < o_.size) {
    const void* p = c.msg.data() + c.sent;
    const std::size_t left = o_.size - c.sent;
    if (c.ssl) {
      std::size_t w = 0;
      ERR_clear_error();
      errno = 0;
      int r = SSL_write_ex(c.ssl, p, left, &w);
      if (r == 1) {
        c.sent += w;
        continue;
      }
      return wait_of(c, r);
    }
    ssize_t w = write(c.fd, p, left);
    if (w > 0) {
      c.sent += static_cast<std::size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Wait::writable;
    throw Failure{"write failed"};
  }
  return Wait::none;
}

bool Loadgen::pump_recv(int idx, bool& wants_out) {
  Conn& c = cs_[static_cast<std::size_t>(idx)];
  wants_out = false;
  while (c.got < o_.size) {
    void* p = c.rx.data() + c.got;
    const std::size_t left = o_.size - c.got;
    if (c.ssl) {
      std::size_t r = 0;
      ERR_clear_error();
      errno = 0;
      int ok = SSL_read_ex(c.ssl, p, left, &r);
      if (ok == 1) {
        c.got += r;
        continue;
      }
      wants_out = wait_of(c, ok) == Wait::writable;
      return false;
    }
    ssize_t r = read(c.fd, p, left);
    if (r > 0) {
      c.got += static_cast<std::size_t>(r);
      continue;
    }
    if (r == 0) throw Failure{"server closed a connection"};
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
    throw Failure{"read failed"};
  }
  return true;
}

void Loadgen::start_send(int idx, std::uint64_t t) {
  Conn& c = cs_[static_cast<std::size_t>(idx)];
  const std::uint64_t stamp[2] = {static_cast<std::uint64_t>(idx), c.seq};
  std::memcpy(c.msg.data(), stamp, std::min(o_.size, sizeof stamp));
  c.sent = 0;
  c.got = 0;
  c.busy = true;
  c.t_send = t;
  on_event(idx, 0);
}

// Moves connection idx on as far as it goes: the rest of its message out, then its echo in.
void Loadgen::on_event(int idx, std::uint32_t events) {
  Conn& c = cs_[static_cast<std::size_t>(idx)];
  if (!c.busy) {
    // an idle connection (rate mode): the server has nothing to send it
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      unsigned char b;
      ERR_clear_error();
      errno = 0;
      int r = c.ssl ? SSL_read(c.ssl, &b, 1) : static_cast<int>(read(c.fd, &b, 1));
      if (r > 0) throw Failure{"echo mismatch"};
      if (r == 0 && !c.ssl) throw Failure{"server closed a connection"};
      // throws unless OpenSSL only consumed a post-handshake message (a session ticket)
      if (c.ssl) set_events(idx, wait_of(c, r) == Wait::writable);
    }
    return;
  }
  // the echo is read while the message is still going out: a message larger than the socket
  // buffers comes back while it is being written
  const Wait w = c.sent < o_.size ? pump_send(idx) : Wait::none;
  // no read before the socket says so (start_send comes here with no events): in steady state
  // one write and one read per message, as loadgen does
  bool back = false;
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || (c.read_wants_out && (events & EPOLLOUT)))
    back = pump_recv(idx, c.read_wants_out);
  set_events(idx, w == Wait::writable || c.read_wants_out);
  if (!back) return;
  if (c.sent < o_.size || std::memcmp(c.rx.data(), c.msg.data(), o_.size) != 0)
    throw Failure{"echo mismatch"};
  complete(idx);
}

void Loadgen::complete(int idx) {
  Conn& c = cs_[static_cast<std::size_t>(idx)];
  const std::uint64_t done = now_ns();
  total_++;
  if (done >= t_measure_ && done <= t_end_) {
    count_++;
    lat_.push_back(done - c.t_send);
  }
  c.seq++;
  c.busy = false;
  if (o_.rate > 0) {
    idle_[(idle_head_ + idle_n_) % idle_.size()] = idx;
    idle_n_++;
  } else {
    start_send(idx, done);
  }
}

void Loadgen::fail_json(const char* why) const {
  std::printf("{\"workload\":\"echo\",\"conns\":%d,\"size\":%zu,\"tls\":\"%s\",\"error\":\"%s\"}\n",
              o_.conns, o_.size,
              o_.plain ? "none" : (o_.version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2"), why);
  std::fflush(stdout);
}

double Loadgen::pct_us(double p) const {
  if (lat_.empty()) return 0;
  auto i = static_cast<std::size_t>(p * static_cast<double>(lat_.size() - 1) + 0.5);
  if (i >= lat_.size()) i = lat_.size() - 1;
  return static_cast<double>(lat_[i]) / 1000.0;
}

int Loadgen::run() {
  std::signal(SIGPIPE, SIG_IGN);
  try {
    make_context();
    connect_all();
    handshake_all();
  } catch (const Failure& f) {
    fail_json(f.why);
    return exit_error;
  }
  lat_.reserve(1u << 20);
  rusage ru0{}, ru1{};
  getrusage(RUSAGE_SELF, &ru0);
  const std::uint64_t t_start = now_ns();
  t_measure_ = t_start + static_cast<std::uint64_t>(o_.warmup * 1e9);
  t_end_ = t_measure_ + static_cast<std::uint64_t>(o_.duration * 1e9);
  bool sampled = o_.server_pids.empty();
  double server_cpu0 = 0, server_cpu1 = 0;
  std::uint64_t sends = 0;
  const double ns_per_send = o_.rate > 0 ? 1e9 / o_.rate : 0;
  const char* error = nullptr;
  try {
    if (o_.rate > 0) {
      idle_.resize(cs_.size());
      for (std::size_t i = 0; i < cs_.size(); i++) idle_[i] = static_cast<int>(i);
      idle_n_ = cs_.size();
    } else {
      for (int i = 0; i < o_.conns; i++) start_send(i, now_ns());
    }
    epoll_event evs[512];
    for (;;) {
      std::uint64_t t = now_ns();
      if (!sampled && t >= t_measure_) {
        server_cpu0 = procs_cpu_s(o_.server_pids);
        sampled = true;
      }
      if (t >= t_end_) break;
      std::uint64_t until = sampled ? t_end_ : t_measure_;
      if (o_.rate > 0) {
        while (idle_n_ > 0 &&
               static_cast<double>(sends) * ns_per_send <= static_cast<double>(t - t_start)) {
          int i = idle_[idle_head_];
          idle_head_ = (idle_head_ + 1) % idle_.size();
          idle_n_--;
          sends++;
          start_send(i, t);
        }
        if (idle_n_ > 0) {
          auto due = static_cast<std::uint64_t>(static_cast<double>(t_start) +
                                                static_cast<double>(sends) * ns_per_send);
          until = std::min(until, std::max(due, t));
        }
      }
      const std::uint64_t wait_ns = until > t ? until - t : 0;
      timespec ts{static_cast<time_t>(wait_ns / 1000000000u),
                  static_cast<long>(wait_ns % 1000000000u)};
      int n = epoll_pwait2(ep_, evs, 512, &ts, nullptr);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Failure{"epoll_wait failed"};
      }
      for (int k = 0; k < n; k++) on_event(static_cast<int>(evs[k].data.u32), evs[k].events);
    }
  } catch (const Failure& f) {
    error = f.why;
  }
  if (!o_.server_pids.empty()) server_cpu1 = procs_cpu_s(o_.server_pids);
  const std::uint64_t t_stop = now_ns();
  getrusage(RUSAGE_SELF, &ru1);
  if (error) {
    fail_json(error);
    return exit_error;
  }
  std::string tls = "none", cipher = "none";
  if (!o_.plain) {
    tls = SSL_get_version(cs_[0].ssl);
    cipher = SSL_get_cipher_name(cs_[0].ssl);
  }
  std::sort(lat_.begin(), lat_.end());
  double sum = 0;
  for (std::uint64_t v : lat_) sum += static_cast<double>(v);
  const double mean_us = lat_.empty() ? 0 : sum / static_cast<double>(lat_.size()) / 1000.0;
  auto secs = [](const timeval& a, const timeval& b) {
    return static_cast<double>(b.tv_sec - a.tv_sec) +
           static_cast<double>(b.tv_usec - a.tv_usec) / 1e6;
  };
  const double cpu = secs(ru0.ru_utime, ru1.ru_utime) + secs(ru0.ru_stime, ru1.ru_stime);
  const double wall = static_cast<double>(t_stop - t_start) / 1e9;
  const double rps = static_cast<double>(count_) / o_.duration;
  std::string server;
  if (!o_.server_pids.empty()) {
    const double s = server_cpu1 - server_cpu0;
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  ",\"server_cpu_s\":%.3f,\"server_cpu_pct\":%.1f,"
                  "\"server_cpu_us_per_req\":%.3f",
                  s, 100.0 * s / o_.duration, count_ ? s * 1e6 / static_cast<double>(count_) : 0.0);
    server = buf;
  }
  std::printf(
      "{\"workload\":\"echo\",\"conns\":%d,\"size\":%zu,\"duration_s\":%.3f,\"warmup_s\":%.3f,"
      "\"requests\":%llu,\"rps\":%.1f,\"mb_per_s\":%.2f,\"mean_us\":%.1f,\"p50_us\":%.1f,"
      "\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"total_requests\":%llu,"
      "\"rate\":%.0f,\"loadgen_cpu_pct\":%.1f,\"tls\":\"%s\",\"cipher\":\"%s\","
      "\"handshake_s\":%.3f%s,\"errors\":0}\n",
      o_.conns, o_.size, o_.duration, o_.warmup, static_cast<unsigned long long>(count_), rps,
      rps * static_cast<double>(o_.size) / 1e6, mean_us, pct_us(0.50), pct_us(0.90), pct_us(0.99),
      pct_us(0.999), lat_.empty() ? 0.0 : static_cast<double>(lat_.back()) / 1000.0,
      static_cast<unsigned long long>(total_), o_.rate, wall > 0 ? 100.0 * cpu / wall : 0.0,
      tls.c_str(), cipher.c_str(), handshake_s_, server.c_str());
  std::fflush(stdout);
  return 0;
}

Options parse(int argc, char** argv) {
  Options o;
  auto value = [&](int& i) -> const char* {
    if (i + 1 >= argc) usage();
    return argv[++i];
  };
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "-h") {
      o.host = value(i);
    } else if (a == "-p") {
      o.port = std::atoi(value(i));
    } else if (a == "-c") {
      o.conns = std::atoi(value(i));
    } else if (a == "-s") {
      o.size = static_cast<std::size_t>(std::atol(value(i)));
    } else if (a == "-d") {
      o.duration = std::atof(value(i));
    } else if (a == "-w") {
      o.warmup = std::atof(value(i));
    } else if (a == "-r") {
      o.rate = std::atof(value(i));
    } else if (a == "-k" || a == "--insecure") {
      o.cafile.clear();
    } else if (a == "--cafile") {
      o.cafile = value(i);
    } else if (a == "--sni") {
      o.sni = value(i);
    } else if (a == "--tls") {
      const std::string v = value(i);
      if (v == "1.3") {
        o.version = TLS1_3_VERSION;
      } else if (v == "1.2") {
        o.version = TLS1_2_VERSION;
      } else {
        usage();
      }
    } else if (a == "--plain") {
      o.plain = true;
    } else if (a == "--server-pid") {
      o.server_pids.push_back(std::atoi(value(i)));
    } else {
      usage();
    }
  }
  for (int pid : o.server_pids) {
    if (pid <= 0 || kill(pid, 0) != 0) {
      std::fprintf(stderr, "tls-loadgen: --server-pid %d: no such process\n", pid);
      std::exit(exit_usage);
    }
  }
  if (o.port <= 0 || o.conns <= 0 || o.size == 0 || o.duration <= 0 || o.warmup < 0 || o.rate < 0)
    usage();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Loadgen g(parse(argc, argv));
  return g.run();
}
