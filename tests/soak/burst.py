#!/usr/bin/env python3
"""Memory after a burst: a few connections each move one large message through an aio server,
then stay open and idle; the server's resident memory must come back down to about what it
needs to hold (nothing for echo, one copy of the value for redis).

    burst.py echo      SERVER_CMD... [--conns N] [--mib M] [--max-growth-mib G]
    burst.py redis-set SERVER_CMD... (same options)
    burst.py redis-get SERVER_CMD... (same options)

echo: each connection sends M MiB without reading (as far as the server lets it: it reads
until no byte has gone for a second), then reads everything back, checking every byte.
redis-set: each connection sends SET burst <M MiB> (the same key), concurrently, and reads +OK.
redis-get: one connection SETs the M MiB value; then each connection GETs it, concurrently,
and checks it.
Then, with every connection still open and idle, the server's RSS is read (after a short
settle) and compared with its RSS before the first connection: it passes when the growth is at
most G MiB. The server command prints its port in its first line, as for soak.py.
"""
import argparse
import selectors
import signal
import socket
import subprocess
import time

from soak import fail, parse_args, rss_kib, start_server

MIB = 1024 * 1024


def payload(conn_id, size):
    """Bytes that tell connections and offsets apart, so a misplaced block is caught."""
    block = (f"<{conn_id:04d}>" * 1024).encode()
    whole, rest = divmod(size, len(block))
    return block * whole + block[:rest]


def redis_command(*parts):
    out = b"*%d\r\n" % len(parts)
    for p in parts:
        out += b"$%d\r\n%s\r\n" % (len(p), p)
    return out


class Conn:
    def __init__(self, cid, port):
        self.id = cid
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.out = memoryview(b"")
        self.want = b""
        self.got = bytearray()


def exchange(conns, read_from_start, deadline_s=60):
    """Sends each conn's `out` and reads until it has len(want) bytes, checking them.
    Without read_from_start, nobody reads until the sending has stalled for a second."""
    sel = selectors.DefaultSelector()
    reading = read_from_start
    last_progress = time.monotonic()
    deadline = last_progress + deadline_s
    registered = set()
    for c in conns:
        sel.register(c.sock, selectors.EVENT_WRITE | (selectors.EVENT_READ if reading else 0), c)
        registered.add(c.id)
    while any(len(c.got) < len(c.want) for c in conns):
        if time.monotonic() > deadline:
            fail(f"exchange unfinished after {deadline_s} s")
        for key, events in sel.select(timeout=0.2):
            c = key.data
            if events & selectors.EVENT_WRITE and c.out:
                try:
                    n = c.sock.send(c.out[: 4 * MIB])
                except BlockingIOError:
                    n = 0
                c.out = c.out[n:]
                last_progress = time.monotonic() if n else last_progress
            if events & selectors.EVENT_READ:
                try:
                    data = c.sock.recv(4 * MIB)
                except BlockingIOError:
                    data = None
                if data == b"":
                    fail(f"connection {c.id} closed by the server")
                if data:
                    c.got += data
        if not reading and time.monotonic() - last_progress > 1.0:
            reading = True
        for c in conns:
            mask = (selectors.EVENT_WRITE if c.out else 0) | (
                selectors.EVENT_READ if reading else 0)
            if mask and c.id in registered:
                sel.modify(c.sock, mask, c)
            elif mask:
                sel.register(c.sock, mask, c)
                registered.add(c.id)
            elif c.id in registered:
                sel.unregister(c.sock)
                registered.discard(c.id)
    for c in conns:
        if bytes(c.got) != c.want:
            at = next(i for i, (a, b) in enumerate(zip(c.got, c.want)) if a != b)
            fail(f"connection {c.id}: wrong answer: byte {at:,} of {len(c.want):,} differs: "
                 f"{bytes(c.got[at:at + 24])!r} where {c.want[at:at + 24]!r} was sent")
        c.got = bytearray()
        c.want = b""
    sel.close()


def measure(args, server, port):
    """Runs the scenario; returns how much the idle server's RSS grew, in MiB."""
    pid = server.pid
    rss_before = rss_kib(pid)
    size = int(args.mib * MIB)
    conns = [Conn(i, port) for i in range(args.conns)]
    started = time.monotonic()
    if args.scenario == "echo":
        for c in conns:
            c.want = payload(c.id, size)
            c.out = memoryview(c.want)
        exchange(conns, read_from_start=False)
    elif args.scenario == "redis-set":
        for c in conns:
            c.out = memoryview(redis_command(b"SET", b"burst", payload(c.id, size)))
            c.want = b"+OK\r\n"
        exchange(conns, read_from_start=True)
    else:
        value = payload(0, size)
        conns[0].out = memoryview(redis_command(b"SET", b"burst", value))
        conns[0].want = b"+OK\r\n"
        exchange(conns[:1], read_from_start=True)
        for c in conns:
            c.out = memoryview(redis_command(b"GET", b"burst"))
            c.want = b"$%d\r\n%s\r\n" % (len(value), value)
        exchange(conns, read_from_start=True)
    moved_s = time.monotonic() - started
    time.sleep(args.settle)
    rss_after = rss_kib(pid)
    peak = rss_kib(pid, "VmHWM")
    growth_mib = (rss_after - rss_before) / 1024
    print(f"{args.scenario}: {args.conns} connections x {args.mib:g} MiB in {moved_s:.1f} s; "
          f"server RSS before {rss_before:,} KiB, peak {peak:,} KiB, idle after {rss_after:,} "
          f"KiB (growth {growth_mib:.1f} MiB, allowed {args.max_growth_mib:g})", flush=True)
    for c in conns:
        c.sock.close()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        fail("the server did not stop on SIGTERM")
    return growth_mib


def run(args, server_cmd):
    server, port = start_server(server_cmd, stderr=None)
    try:
        growth_mib = measure(args, server, port)
    finally:
        if server.poll() is None:
            server.kill()  # (after a failure; a passing run has stopped it already)
    if growth_mib > args.max_growth_mib:
        fail(f"the server kept {growth_mib:.1f} MiB after the burst")
    print("burst: ok")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", choices=["echo", "redis-set", "redis-get"])
    p.add_argument("--conns", type=int, default=8)
    p.add_argument("--mib", type=float, default=64, help="the message each connection moves")
    p.add_argument("--max-growth-mib", type=float, default=float("inf"))
    p.add_argument("--settle", type=float, default=0.5, help="seconds idle before measuring")
    run(*parse_args(p))


if __name__ == "__main__":
    main()
