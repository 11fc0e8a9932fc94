#!/usr/bin/env python3
"""Drives the networking examples over loopback: the echo server with the echo client, the chat
server with three raw socket clients, and the TLS echo pair. Usage: net_examples.py BIN_DIR TEST"""
import os
import re
import signal
import socket
import subprocess
import sys
import time


def start_server(path, want_line=False):
    """Starts a server example on a free port; returns (process, port) once it listens."""
    proc = subprocess.Popen([path, "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        sys.exit(f"{path}: no address in its first line: {line!r}")
    if want_line:
        return proc, int(m.group(1)), line
    return proc, int(m.group(1))


def stop(proc):
    proc.terminate()  # SIGTERM: no handler, the process ends
    try:
        return proc.communicate(timeout=10)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit("server did not stop on SIGTERM")


def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)


def echo(bin_dir):
    server, port = start_server(os.path.join(bin_dir, "echo_server"))
    try:
        out = subprocess.run([os.path.join(bin_dir, "echo_client"), "--port", str(port)],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 0, f"echo_client exited {out.returncode}: {out.stderr}")
        expected = "Send: 'Hello World!'\nReceived: 'Hello World!'\nClose the connection\n"
        check(out.stdout == expected, f"client output {out.stdout!r}")
        # A second client with another message: the server keeps serving.
        out = subprocess.run([os.path.join(bin_dir, "echo_client"), "--port", str(port), "again"],
                             capture_output=True, text=True, timeout=30)
        check("Received: 'again'" in out.stdout, f"second client output {out.stdout!r}")
        # A client that connects and closes at once does not disturb it.
        socket.create_connection(("127.0.0.1", port)).close()
        out = subprocess.run([os.path.join(bin_dir, "echo_client"), "--port", str(port), "third"],
                             capture_output=True, text=True, timeout=30)
        check("Received: 'third'" in out.stdout, f"third client output {out.stdout!r}")
    finally:
        log = stop(server)
    check(re.search(r"Received 'Hello World!' from 127\.0\.0\.1:\d+\nSend: 'Hello World!'\n"
                    r"Close the connection\n", log) is not None, f"server log {log!r}")
    print("echo: ok")


def recv_until(sock, text, timeout=10):
    sock.settimeout(timeout)
    data = b""
    while text.encode() not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode()


def chat(bin_dir):
    server, port = start_server(os.path.join(bin_dir, "chat_server"))
    try:
        a = socket.create_connection(("127.0.0.1", port))
        check("Welcome, user1!" in recv_until(a, "Welcome"), "user1 welcome")
        b = socket.create_connection(("127.0.0.1", port))
        check("Welcome, user2!" in recv_until(b, "Welcome"), "user2 welcome")
        check("* user2 joined" in recv_until(a, "joined"), "user1 sees user2 join")
        c = socket.create_connection(("127.0.0.1", port))
        recv_until(c, "Welcome")
        recv_until(a, "user3 joined")
        recv_until(b, "user3 joined")
        a.sendall(b"hello everyone\n")
        check("user1: hello everyone" in recv_until(b, "hello everyone"), "b gets a's line")
        check("user1: hello everyone" in recv_until(c, "hello everyone"), "c gets a's line")
        # Partial lines are joined: the message arrives once the newline does.
        b.sendall(b"split ")
        time.sleep(0.05)
        b.sendall(b"line\n")
        check("user2: split line" in recv_until(a, "split line"), "a gets b's split line")
        c.close()
        check("* user3 left" in recv_until(a, "left"), "a sees user3 leave")
        a.close()
        b.close()
    finally:
        log = stop(server)
    check("user1 joined" in log and "user3 left" in log, f"server log {log!r}")
    print("chat: ok")


def tls_echo(bin_dir):
    server, port, line = start_server(os.path.join(bin_dir, "tls_echo_server"), want_line=True)
    m = re.search(r"certificate (\S+)\)", line)
    check(m is not None, f"no certificate path in {line!r}")
    cafile = m.group(1)
    client = os.path.join(bin_dir, "tls_echo_client")
    try:
        out = subprocess.run([client, "--port", str(port), "--cafile", cafile, "secret"],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 0, f"tls_echo_client exited {out.returncode}: {out.stderr}")
        expected = ("Connected to localhost\nSend: 'secret'\nReceived: 'secret'\n"
                    "Close the connection\n")
        check(out.stdout == expected, f"client output {out.stdout!r}")
        # With the system's CAs only, the client refuses the server, and says why.
        out = subprocess.run([client, "--port", str(port)], capture_output=True, text=True,
                             timeout=30)
        check(out.returncode == 1 and "certificate verify failed" in out.stderr,
              f"untrusted server: {out.returncode} {out.stderr!r}")
        # A plain TCP client that speaks no TLS does not disturb it.
        socket.create_connection(("127.0.0.1", port)).close()
        out = subprocess.run([client, "--port", str(port), "--cafile", cafile, "again"],
                             capture_output=True, text=True, timeout=30)
        check("Received: 'again'" in out.stdout, f"second client output {out.stdout!r}")
    finally:
        log = stop(server)
    check(re.search(r"Received 'secret' from 127\.0\.0\.1:\d+ over TLSv1\.3\n", log) is not None,
          f"server log {log!r}")
    print("tls_echo: ok")


def stop_with_a_client(bin_dir):
    """Every server example stops promptly on Ctrl+C (mini_redis on SIGTERM too) while a client
    is connected and idle: it closes its clients instead of waiting for them to leave."""
    cases = [("echo_server", signal.SIGINT, 130), ("chat_server", signal.SIGINT, 130),
             ("tls_echo_server", signal.SIGINT, 130), ("mini_redis", signal.SIGINT, 0),
             ("mini_redis", signal.SIGTERM, 0)]
    for name, sig, code in cases:
        server, port = start_server(os.path.join(bin_dir, name))
        client = socket.create_connection(("127.0.0.1", port))
        try:
            time.sleep(0.2)  # the server has accepted it
            server.send_signal(sig)
            try:
                server.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                sys.exit(f"FAILED: {name} did not stop on {sig.name} with a client connected")
            check(server.returncode == code, f"{name} on {sig.name} exited {server.returncode}")
        finally:
            client.close()
    print("stop_with_a_client: ok")


if __name__ == "__main__":
    bin_dir, test = sys.argv[1], sys.argv[2]
    {"echo": echo, "chat": chat, "tls_echo": tls_echo,
     "stop_with_a_client": stop_with_a_client}[test](bin_dir)
