#!/usr/bin/env python3
"""A bounded soak: many concurrent connections on loopback against one aio server for a fixed
time, at a steady request rate, checking every answer.

    soak.py echo  SERVER_CMD... [--conns N] [--seconds S] [--rate R] [--warmup W]
    soak.py redis SERVER_CMD... (same options)

The server command must print its port in its first line ("...:PORT" or "port PORT") and is
started with the soft descriptor limit raised to the hard one. The client is plain Python
(selectors, non-blocking sockets), nothing from aio. It passes when: every connection is
established and stays up, every answer is right (zero errors), the server's resident memory
after the warm-up stays flat (grows by at most 5% + 2 MiB by the end), and once the clients
are gone the server's open descriptors return to what they were before the first connection,
and the server exits with status 0 when told to stop (SIGTERM); a server run under valgrind
memcheck with --error-exitcode therefore fails the soak on any error or leak.
"""
import argparse
import collections
import errno
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import time


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kib(pid, field="VmRSS"):
    """The process's resident memory now (VmHWM: its peak), from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Echo:
    """64-byte messages, each answered by the same bytes."""

    def request(self, conn_id, n):
        body = f"{conn_id:06d}:{n:010d}:".encode()
        return body + b"x" * (64 - len(body))

    def check(self, conn_id, n, buf):
        want = self.request(conn_id, n)
        if len(buf) < len(want):
            return None  # incomplete
        return (buf[: len(want)] == want, len(want))


class Redis:
    """SET key:ID value:N, then GET key:ID, alternately; answers checked byte for byte."""

    def request(self, conn_id, n):
        key = f"soak:{conn_id}".encode()
        value = f"value:{n // 2}".encode()
        if n % 2 == 0:
            parts = [b"SET", key, value]
        else:
            parts = [b"GET", key]
        out = b"*%d\r\n" % len(parts)
        for p in parts:
            out += b"$%d\r\n%s\r\n" % (len(p), p)
        return out

    def check(self, conn_id, n, buf):
        if n % 2 == 0:
            want = b"+OK\r\n"
        else:
            value = f"value:{n // 2}".encode()
            want = b"$%d\r\n%s\r\n" % (len(value), value)
        if len(buf) < len(want):
            return None
        return (buf[: len(want)] == want, len(want))


class Conn:
    __slots__ = ("id", "sock", "n", "buf", "due", "in_flight", "sent_at")

    def __init__(self, cid, sock):
        self.id = cid
        self.sock = sock
        self.n = 0
        self.buf = b""
        self.due = 0.0
        self.in_flight = False
        self.sent_at = 0.0


def fail(msg):
    print("FAILED: " + msg, flush=True)
    sys.exit(1)


def connect_all(port, count, sel):
    conns = []
    pending = {}
    next_id = 0
    deadline = time.monotonic() + 60
    while len(conns) < count:
        # Connect in waves, so the listen backlog is never the limit.
        while next_id < count and len(pending) < 256:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            rc = s.connect_ex(("127.0.0.1", port))
            if rc not in (0, errno.EINPROGRESS):
                fail(f"connect #{next_id}: {os.strerror(rc)}")
            pending[s.fileno()] = (next_id, s)
            sel.register(s, selectors.EVENT_WRITE, None)
            next_id += 1
        for key, _ in sel.select(timeout=1.0):
            cid, s = pending.pop(key.fd)
            sel.unregister(s)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                fail(f"connect #{cid}: {os.strerror(err)}")
            conns.append(Conn(cid, s))
        if time.monotonic() > deadline:
            fail(f"only {len(conns)} of {count} connections after 60 s")
    return conns


def start_server(server_cmd, stderr=subprocess.PIPE):
    """Starts the server with the descriptor limit raised; returns (process, port) once it
    has printed its port (in its first line: "...:PORT" or "port PORT")."""
    raise_fd_limit()
    server = subprocess.Popen(server_cmd, stdout=subprocess.PIPE, stderr=stderr, text=True,
                              preexec_fn=raise_fd_limit)
    line = server.stdout.readline()
    m = re.search(r"(?::|port\D{0,3})(\d{2,5})\b", line)
    if not m:
        server.kill()
        fail(f"no port in the server's first line: {line!r}")
    time.sleep(0.2)
    return server, int(m.group(1))


def parse_args(p):
    """The parser's options, and the server command after them (after a "--" if given)."""
    args, server_cmd = p.parse_known_args()
    if server_cmd and server_cmd[0] == "--":
        server_cmd = server_cmd[1:]
    if not server_cmd:
        p.error("no server command")
    return args, server_cmd


def run(args, server_cmd):
    proto = Echo() if args.protocol == "echo" else Redis()
    server, port = start_server(server_cmd)
    pid = server.pid
    fds_before = open_fds(pid)
    rss_start = rss_kib(pid)

    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    conns = connect_all(port, args.conns, sel)
    connect_s = time.monotonic() - t0
    by_fd = {c.sock.fileno(): c for c in conns}
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)

    # Every connection sends once per period; the start times are spread over one period.
    period = args.conns / args.rate
    start = time.monotonic()
    queue = collections.deque()
    for i, c in enumerate(conns):
        c.due = start + period * i / len(conns)
        queue.append(c)
    end = start + args.seconds
    warm_end = start + args.warmup
    completed = 0
    errors = 0
    max_latency = 0.0
    rss_samples = []
    next_sample = start
    peak_fds = 0
    while True:
        now = time.monotonic()
        if now >= next_sample:
            rss_samples.append((now - start, rss_kib(pid)))
            peak_fds = max(peak_fds, open_fds(pid))
            next_sample = now + 1.0
        if now >= end:
            break
        while queue and queue[0].due <= now:
            c = queue.popleft()
            try:
                c.sock.send(proto.request(c.id, c.n))  # small: the kernel takes it whole
            except OSError as e:
                fail(f"send on connection {c.id}: {e}")
            c.in_flight = True
            c.sent_at = now
        timeout = max(0.0, min(queue[0].due - now if queue else 0.05, 0.05))
        for key, _ in sel.select(timeout=timeout):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except OSError as e:
                fail(f"recv on connection {c.id}: {e}")
            if not data:
                fail(f"connection {c.id} closed by the server")
            c.buf += data
            while c.in_flight:
                verdict = proto.check(c.id, c.n, c.buf)
                if verdict is None:
                    break
                ok, used = verdict
                if not ok:
                    errors += 1
                    if errors <= 5:
                        print(f"wrong answer on connection {c.id}: {c.buf[:80]!r}", flush=True)
                c.buf = c.buf[used:]
                completed += 1
                max_latency = max(max_latency, time.monotonic() - c.sent_at)
                c.n += 1
                c.in_flight = False
                c.due = max(c.due + period, time.monotonic())
                queue.append(c)
        if server.poll() is not None:
            fail(f"the server exited with {server.returncode}: {server.stderr.read()[-2000:]}")

    unanswered = sum(1 for c in conns if c.in_flight)
    for c in conns:
        sel.unregister(c.sock)
        c.sock.close()
    # The server notices every close and gives the descriptors back.
    deadline = time.monotonic() + 10
    fds_after = open_fds(pid)
    while fds_after != fds_before and time.monotonic() < deadline:
        time.sleep(0.1)
        fds_after = open_fds(pid)
    rss_end = rss_kib(pid)
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        fail("the server did not stop on SIGTERM")
    if server.returncode != 0:  # the servers stop cleanly on SIGTERM (a checker's verdict too)
        fail(f"the server exited with {server.returncode}: {server.stderr.read()[-3000:]}")

    after_warm = [kib for t, kib in rss_samples if t >= args.warmup]
    rss_warm = after_warm[0] if after_warm else rss_samples[-1][1]
    rss_last = after_warm[-1] if after_warm else rss_warm
    growth_ok = rss_last <= rss_warm * 1.05 + 2048
    elapsed = args.seconds
    print(f"{args.protocol}: {len(conns)} connections (connected in {connect_s:.1f} s), "
          f"{elapsed:.0f} s, {completed} answers ({completed / elapsed:,.0f}/s), "
          f"{errors} errors, {unanswered} in flight at the end, "
          f"max latency {max_latency * 1e3:.0f} ms", flush=True)
    print(f"server RSS: {rss_start} KiB idle, {rss_warm} KiB after warm-up, "
          f"{rss_last} KiB at the end, {rss_end} KiB after the clients left; "
          f"descriptors: {fds_before} before, {peak_fds} at peak, {fds_after} after", flush=True)
    if errors:
        fail(f"{errors} wrong answers")
    if completed < 0.9 * args.rate * (args.seconds - 1):
        fail(f"only {completed} answers: the server fell behind {args.rate}/s")
    if not growth_ok and not args.no_rss_check:
        fail(f"RSS grew from {rss_warm} to {rss_last} KiB after the warm-up")
    if fds_after != fds_before:
        fail(f"descriptors: {fds_before} before, {fds_after} after the clients left")
    print("PASSED", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("protocol", choices=["echo", "redis"])
    p.add_argument("--conns", type=int, default=10000)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--rate", type=float, default=10000, help="requests per second, in all")
    p.add_argument("--warmup", type=float, default=10)
    p.add_argument("--no-rss-check", action="store_true",
                   help="for sanitizer builds: ASan holds freed memory in quarantine, so RSS "
                        "grows; its leak checker and the exit status judge memory instead")
    run(*parse_args(p))


if __name__ == "__main__":
    main()
