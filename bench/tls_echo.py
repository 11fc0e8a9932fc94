#!/usr/bin/python3
"""TLS echo servers on asyncio and uvloop: the peers of aio-bench's echo-server-tls.

Usage:
  /usr/bin/python3 bench/tls_echo.py [--loop asyncio|uvloop] [--echo protocol|streams]
                                     --cert CERT.pem --key KEY.pem PORT

The same servers as the harness's echo peers (../shared/bench/src/py/bench.py): a Protocol whose
data_received writes the data back, or start_server with read(65536) / write / drain; here with
ssl= (a server context with the certificate and key, TLS 1.2 or later, the interpreter's default
ciphers). Listens on 127.0.0.1:PORT (backlog 1024, TCP_NODELAY on every connection), prints one
JSON line when listening, {"workload":"echo-server-tls","impl":...,"port":PORT,"ready":true},
and serves until SIGTERM or SIGINT. A client that connects and closes before its handshake (a
readiness probe) is dropped quietly.

Run it with Debian's /usr/bin/python3: that is the interpreter python3-uvloop is installed for.
"""
import argparse
import asyncio
import json
import logging
import signal
import socket
import ssl
import sys


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def connection_lost(self, exc):
        self.transport = None


async def _echo_stream(reader, writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def server_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


async def echo_server(port, mode, impl, ctx):
    loop = asyncio.get_running_loop()
    if mode == "protocol":
        server = await loop.create_server(EchoProtocol, "127.0.0.1", port, ssl=ctx,
                                          reuse_address=True, backlog=1024)
    else:
        server = await asyncio.start_server(_echo_stream, "127.0.0.1", port, ssl=ctx,
                                            reuse_address=True, backlog=1024)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    emit({"workload": "echo-server-tls", "impl": impl, "port": port, "ready": True,
          "python": sys.version.split()[0], "openssl": ssl.OPENSSL_VERSION})
    async with server:
        await stop


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    p.add_argument("--echo", choices=("protocol", "streams"), default="protocol")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("port", type=int)
    args = p.parse_args(argv)
    if args.loop == "uvloop":
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    # the readiness probe's aborted handshake is not worth a traceback
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    impl = "%s-%s-tls" % (args.loop, args.echo)
    asyncio.run(echo_server(args.port, args.echo, impl, server_context(args.cert, args.key)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
