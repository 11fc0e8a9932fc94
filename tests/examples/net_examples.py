#!/usr/bin/env python3
"""Drives the networking examples over loopback: the echo server with the echo client, the chat
server with three raw socket clients, and the TLS echo pair. Usage: net_examples.py BIN_DIR TEST"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time


def start_server(path, want_line=False, stderr=None, args=()):
    """Starts a server example on a free port; returns (process, port) once it listens."""
    proc = subprocess.Popen([path, "--port", "0", *args], stdout=subprocess.PIPE, stderr=stderr,
                            text=True)
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
    cases = [(name, sig, code, ()) for name, sig, code in cases]
    cases += [("mini_redis", signal.SIGINT, 0, ("--threads", "2")),
              ("mini_redis", signal.SIGTERM, 0, ("--threads", "2"))]
    for name, sig, code, args in cases:
        server, port = start_server(os.path.join(bin_dir, name), args=args)
        client = socket.create_connection(("127.0.0.1", port))
        try:
            time.sleep(0.2)  # the server has accepted it
            server.send_signal(sig)
            try:
                server.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                sys.exit(f"FAILED: {name} {args} did not stop on {sig.name} with a client connected")
            check(server.returncode == code,
                  f"{name} {args} on {sig.name} exited {server.returncode}")
        finally:
            client.close()
    print("stop_with_a_client: ok")


def reset(sock):
    """Closes with a RST instead of a FIN, as a client that crashes or is killed does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def resets(bin_dir):
    """A client that resets its connection is a routine disconnect: every server example goes
    on serving and logs nothing about it (no "Unhandled exception in client_connected_cb")."""
    for name in ["echo_server", "chat_server", "tls_echo_server", "mini_redis"]:
        server, port = start_server(os.path.join(bin_dir, name), stderr=subprocess.PIPE)
        try:
            for k in range(20):
                client = socket.create_connection(("127.0.0.1", port))
                if k % 2:
                    client.sendall(b"partial")  # reset in the middle of a message
                time.sleep(0.01)
                reset(client)
            time.sleep(0.2)
            if name == "mini_redis":  # still serving
                client = socket.create_connection(("127.0.0.1", port))
                client.sendall(b"PING\r\n")
                check(recv_until(client, "PONG").startswith("+PONG"), f"{name} after resets")
                client.close()
        finally:
            server.send_signal(signal.SIGINT)
            try:
                err = server.communicate(timeout=10)[1]
            except subprocess.TimeoutExpired:
                server.kill()
                sys.exit(f"FAILED: {name} did not stop")
        check(err == "", f"{name} logged resets: {err[:500]!r}")
    print("resets: ok")


def chat_slow_client(bin_dir):
    """A client that does not read is dropped once its queue overflows: its connection is cut at
    once (its writer is stuck waiting for it), the others hear it left, and nothing it sends
    afterwards is relayed."""
    server, port = start_server(os.path.join(bin_dir, "chat_server"))
    lines = []

    def collect():
        for text in server.stdout:
            lines.append(text)

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    try:
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", port))
        check("Welcome, user1!" in recv_until(slow, "Welcome"), "user1 welcome")
        talker = socket.create_connection(("127.0.0.1", port))
        recv_until(talker, "Welcome")
        line = b"x" * 32 * 1024 + b"\n"
        # Enough to fill the kernel's buffers, the writer's 64 KiB and the 256-line queue.
        for _ in range(1000):
            talker.sendall(line)
            if any("dropped" in text for text in lines):
                break
        # Without reading a byte from it: the server cuts it off and the others hear it left.
        check("* user1 left" in recv_until(talker, "user1 left"), "user2 hears user1 left")
        slow.settimeout(10)
        try:
            while slow.recv(1 << 20):
                pass  # what the kernel had delivered before the cut, if it was not reset
        except ConnectionResetError:
            pass
        try:
            slow.sendall(b"after the drop\n")
        except OSError:
            pass  # reset: nothing goes through
        talker.sendall(b"still here\n")
        talker.settimeout(0.5)
        heard = b""
        try:
            while True:
                chunk = talker.recv(65536)
                if not chunk:
                    break
                heard += chunk
        except socket.timeout:
            pass
        check(b"after the drop" not in heard, "a dropped client's line was relayed")
        talker.close()
        slow.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            sys.exit("FAILED: chat_server did not stop on SIGTERM")
        reader.join(timeout=10)
    log = "".join(lines)
    check("user1 is too slow: dropped" in log and "user1 left" in log, f"server log {log!r}")
    print("chat_slow_client: ok")


if __name__ == "__main__":
    bin_dir, test = sys.argv[1], sys.argv[2]
    {"echo": echo, "chat": chat, "tls_echo": tls_echo,
     "stop_with_a_client": stop_with_a_client, "resets": resets,
     "chat_slow_client": chat_slow_client}[test](bin_dir)
