#!/usr/bin/env python3
"""Drives examples/mini_redis with the real Redis clients (Debian's redis-tools): redis-cli for
each command, a raw socket for pipelining and malformed input, and a short redis-benchmark run.
Usage: mini_redis_cli.py PATH_TO_MINI_REDIS"""
import re
import shutil
import socket
import subprocess
import sys
import time

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAILED:", what)


def cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                         timeout=30)
    return out.stdout


def raw(port, payload, expect_close=False):
    """Sends payload in one write and returns everything read until the replies stop."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(payload)
    s.settimeout(0.5 if not expect_close else 5)
    data = b""
    closed = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass
    s.close()
    return data, closed


def start(*args):
    """Starts mini_redis on a free port; returns the process and its port."""
    server = subprocess.Popen([sys.argv[1], "--port", "0", *args], stdout=subprocess.PIPE,
                              text=True)
    line = server.stdout.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        server.kill()
        sys.exit(f"no address in mini_redis's first line: {line!r}")
    return server, int(m.group(1))


def busy_poll():
    """--busy-poll US: bad values are refused; a busy-polling server serves as the other does."""
    for bad in ("-1", "fast", ""):
        out = subprocess.run([sys.argv[1], "--busy-poll", bad], capture_output=True, text=True,
                             timeout=30)
        check(out.returncode == 2 and "--busy-poll" in out.stderr,
              f"--busy-poll {bad!r}: exit {out.returncode}, {out.stderr!r}")
    server, port = start("--busy-poll", "50")
    try:
        check(cli(port, "SET", "k", "v") == "OK\n" and cli(port, "GET", "k") == "v\n",
              "SET and GET with --busy-poll")
        data, _ = raw(port, b"PING\r\n" * 16)
        check(data == b"+PONG\r\n" * 16, f"pipelined PINGs with --busy-poll: {data!r}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def same_as_one_loop():
    """--threads 3: one key space over three loops answers exactly as one loop does, for the
    single-key commands (forwarded to the key's loop), DEL/EXISTS/DBSIZE/FLUSHALL (across the
    loops) and pipelined mixes of them; bad --threads values are refused."""
    for bad in ("0", "-2", "many", ""):
        out = subprocess.run([sys.argv[1], "--threads", bad], capture_output=True, text=True,
                             timeout=30)
        check(out.returncode == 2 and "--threads" in out.stderr,
              f"--threads {bad!r}: exit {out.returncode}, {out.stderr!r}")
    keys = [f"key:{i}" for i in range(40)]
    script = [["SET", k, str(i)] for i, k in enumerate(keys)]
    script += [["INCRBY", k, "5"] for k in keys[::3]]
    script += [["GET", k] for k in keys] + [["GET", "missing"], ["DBSIZE"]]
    script += [["EXISTS", *keys[:25], "missing", keys[0]], ["DEL", *keys[10:30], "missing"]]
    script += [["EXPIRE", keys[0], "100"], ["TTL", keys[0]], ["PTTL", "missing"], ["DBSIZE"]]
    script += [["SET", "n", "x"], ["INCR", "n"], ["DEL"], ["EXISTS"], ["DBSIZE", "extra"]]
    script += [["CLIENT", "SETNAME", "me"], ["CLIENT", "GETNAME"], ["FLUSHALL"], ["DBSIZE"]]
    script += [["FLUSHALL", "BAD"], ["PING"], ["ECHO", "done"]]

    def encode(command):
        return b"*%d\r\n" % len(command) + b"".join(
            b"$%d\r\n%s\r\n" % (len(w.encode()), w.encode()) for w in command)

    replies = {}
    for threads in ("1", "3"):
        server, port = start("--threads", threads)
        try:
            # One command at a time (replies are read before the next is sent)...
            one_by_one = b""
            s = socket.create_connection(("127.0.0.1", port))
            s.settimeout(5)
            for command in script:
                s.sendall(encode(command))
                one_by_one += read_reply(s)
            s.close()
            # ... and the whole script pipelined in one write (after a FLUSHALL).
            s = socket.create_connection(("127.0.0.1", port))
            s.settimeout(5)
            s.sendall(encode(["FLUSHALL"]))
            read_reply(s)
            s.sendall(b"".join(encode(c) for c in script))
            pipelined = b"".join(read_reply(s) for _ in script)
            s.close()
            replies[threads] = (one_by_one, pipelined)
            check(one_by_one == pipelined, f"--threads {threads}: pipelined replies differ")
        finally:
            server.terminate()
            server.wait(timeout=10)
        check(server.returncode == 0, f"--threads {threads}: exit {server.returncode} on SIGTERM")
    check(replies["1"] == replies["3"],
          "--threads 3 answers as one loop does: " +
          f"{replies['1'][0][:200]!r} vs {replies['3'][0][:200]!r}")


def read_reply(s):
    """One whole RESP2 reply from the socket (no nesting deeper than arrays of bulk strings)."""
    buf = b""

    def line():
        nonlocal buf
        while b"\r\n" not in buf:
            buf += s.recv(1)
        head, _, rest = buf.partition(b"\r\n")
        buf = rest
        return head + b"\r\n"

    def reply():
        first = line()
        if first[:1] == b"$" and int(first[1:-2]) >= 0:
            return first + exactly(int(first[1:-2]) + 2)
        if first[:1] == b"*":
            return first + b"".join(reply() for _ in range(max(0, int(first[1:-2]))))
        return first

    def exactly(n):
        data = b""
        while len(data) < n:
            data += s.recv(n - len(data))
        return data

    return reply()


def main():
    if not shutil.which("redis-cli"):
        sys.exit("redis-cli not found: install Debian's redis-tools (scripts/ensure-packages does)")
    busy_poll()
    same_as_one_loop()
    server, port = start()
    try:
        cases = [
            (["PING"], "PONG\n"),
            (["PING", "hello"], "hello\n"),
            (["ECHO", "a b"], "a b\n"),
            (["SET", "k", "v"], "OK\n"),
            (["GET", "k"], "v\n"),
            (["GET", "missing"], "\n"),
            (["SET", "k", "w", "NX"], "\n"),
            (["SET", "k", "w", "XX"], "OK\n"),
            (["GET", "k"], "w\n"),
            (["SET", "other", "x", "XX"], "\n"),
            (["SET", "n", "10"], "OK\n"),
            (["INCR", "n"], "11\n"),
            (["DECR", "n"], "10\n"),
            (["INCR", "k"], "ERR value is not an integer or out of range\n\n"),
            (["EXISTS", "k", "n", "missing"], "2\n"),
            (["EXPIRE", "n", "100"], "1\n"),
            (["TTL", "n"], "100\n"),
            (["TTL", "k"], "-1\n"),
            (["TTL", "missing"], "-2\n"),
            (["SET", "t", "v", "PX", "100"], "OK\n"),
            (["SET", "t2", "v", "EX", "0"], "ERR invalid expire time in 'set' command\n\n"),
            (["SET", "t2", "v", "EX"], "ERR syntax error\n\n"),
            (["DEL", "k", "n", "missing"], "2\n"),
            (["GET"], "ERR wrong number of arguments for 'get' command\n\n"),
            (["NOSUCH", "a"], "ERR unknown command 'NOSUCH', with args beginning with: 'a' \n\n"),
            (["CONFIG", "GET", "appendonly"], "appendonly\nno\n"),
        ]
        for args, expected in cases:
            got = cli(port, *args)
            check(got == expected, f"redis-cli {' '.join(args)}: {got!r}, expected {expected!r}")
        # Expiry by the loop's timers: t had 100 ms.
        time.sleep(0.3)
        check(cli(port, "EXISTS", "t") == "0\n", "t expired after its 100 ms")
        # Pipelining: many commands in one write, replies in order.
        data, _ = raw(port, b"PING\r\n" + b"*3\r\n$3\r\nSET\r\n$1\r\np\r\n$1\r\n1\r\n" +
                      b"*2\r\n$4\r\nINCR\r\n$1\r\np\r\n" * 50 + b"*2\r\n$3\r\nGET\r\n$1\r\np\r\n")
        expected = b"+PONG\r\n+OK\r\n" + b"".join(b":%d\r\n" % i for i in range(2, 52)) + \
            b"$2\r\n51\r\n"
        check(data == expected, f"pipelined replies: {data[:80]!r}...")
        # Malformed input: an error reply, then the connection is closed; the server lives on.
        data, closed = raw(port, b"*1\r\n$abc\r\n", expect_close=True)
        check(data.startswith(b"-ERR Protocol error"), f"malformed bulk length: {data!r}")
        check(closed, "the connection is closed after a protocol error")
        check(cli(port, "PING") == "PONG\n", "still serving after a protocol error")
        # The real load generator, briefly: every test completes without errors.
        if shutil.which("redis-benchmark"):
            out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "ping,set,get",
                                  "-n", "2000", "-c", "10", "-q"], capture_output=True, text=True,
                                 timeout=120)
            text = out.stdout.replace("\r", "\n")
            for test in ("PING_INLINE", "PING_MBULK", "SET", "GET"):
                check(re.search(test + r": [0-9.]+ requests per second", text) is not None,
                      f"redis-benchmark {test}: {text[-300:]!r}")
            check(out.returncode == 0, f"redis-benchmark exited {out.returncode}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("mini_redis with redis-cli: ok")


if __name__ == "__main__":
    main()
