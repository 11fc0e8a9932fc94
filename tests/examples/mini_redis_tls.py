#!/usr/bin/env python3
"""Drives examples/mini_redis --tls with the real Redis client over TLS (redis-cli --tls --cacert,
Debian's redis-tools), with a certificate made by the openssl command; a client that speaks no
TLS gets nothing. Usage: mini_redis_tls.py PATH_TO_MINI_REDIS"""
import re
import shutil
import socket
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAILED:", what)


def main():
    for tool in ("redis-cli", "openssl"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: scripts/ensure-packages installs it")
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = f"{tmp}/cert.pem", f"{tmp}/key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True)
        server = subprocess.Popen([sys.argv[1], "--port", "0", "--tls", "--cert", cert,
                                   "--key", key], stdout=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+) \(TLS\)", line)
        if not m:
            server.kill()
            sys.exit(f"no TLS address in mini_redis's first line: {line!r}")
        port = str(m.group(1))

        def cli(*args):
            out = subprocess.run(["redis-cli", "--tls", "--cacert", cert, "-h", "127.0.0.1",
                                  "-p", port, *args], capture_output=True, text=True, timeout=30)
            return out.stdout + out.stderr

        try:
            for args, expected in [(["PING"], "PONG\n"), (["SET", "k", "v"], "OK\n"),
                                   (["GET", "k"], "v\n"), (["INCR", "n"], "1\n"),
                                   (["ECHO", "x" * 100000], "x" * 100000 + "\n")]:
                got = cli(*args)
                check(got == expected, f"redis-cli --tls {args[0]}: {got[:80]!r}")
            # A plaintext client: the handshake fails, mini_redis answers nothing and serves on.
            s = socket.create_connection(("127.0.0.1", int(port)))
            s.sendall(b"PING\r\n")
            s.settimeout(5)
            try:
                data = s.recv(100)
            except (socket.timeout, ConnectionResetError):
                data = b""
            s.close()
            check(b"PONG" not in data, f"a plaintext client got {data!r}")
            check(cli("PING") == "PONG\n", "still serving after a plaintext client")
            if shutil.which("redis-benchmark"):
                out = subprocess.run(["redis-benchmark", "--tls", "--cacert", cert, "-h",
                                      "127.0.0.1", "-p", port, "-t", "set,get", "-n", "1000",
                                      "-c", "5", "-q"], capture_output=True, text=True,
                                     timeout=120)
                text = out.stdout.replace("\r", "\n")
                check(re.search(r"GET: [0-9.]+ requests per second", text) is not None,
                      f"redis-benchmark --tls: {text[-300:]!r}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("mini_redis with redis-cli --tls: ok")


if __name__ == "__main__":
    main()
