"""A bare asyncio + uvloop + httptools HTTP/1.1 reverse proxy: the floor of that design.

    python -m bench.floor_uvloop --port 8001 --upstream http://127.0.0.1:8002 [--no-uvloop]
        [--burn-us 40]

The same work as bench/floor_gevent.py (no routing, authentication, metrics or
validation; requests without a body; hop-by-hop headers dropped, ``X-Forwarded-For``
added; a pooled keep-alive upstream connection; the answer's head rebuilt), written
as asyncio protocols (callbacks, no coroutine per request) with httptools (the C
parser of uvicorn) parsing both sides. One process. Needs ``uvloop`` and
``httptools`` (the project's dependencies: gateway/front.py runs on them).

``--burn-us N`` spends N more microseconds of CPU in Python on each request (a loop on
the thread's CPU clock), standing for the per-request logic a real gateway adds
(routing, authentication, signing, header rules, metrics): bench/gateway_floor.py
``--burn`` runs such proxies beside the others to find how much logic per request
still meets the goal against nginx.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

import httptools  # type: ignore[import-not-found,unused-ignore]

HOP = frozenset(
    b"connection keep-alive proxy-connection te trailer transfer-encoding upgrade".split()
)
# The answer's own length is written again with the rebuilt head.
ANSWER_DROP = HOP | {b"content-length"}
BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"


class Upstream(asyncio.Protocol):
    """One keep-alive connection to the upstream; answers go to ``self.client``."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.parser = httptools.HttpResponseParser(self)
        self.transport: Any = None
        self.client: Client | None = None
        self.head: list[bytes] = []
        self.body: list[bytes] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def send(self, client: Client, request: bytes) -> None:
        self.client = client
        self.head = []
        self.body = []
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() not in ANSWER_DROP:
            self.head.append(name + b": " + value)

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_message_complete(self) -> None:
        client, self.client = self.client, None
        status = self.parser.get_status_code()
        body = b"".join(self.body)
        head = b"\r\n".join(self.head)
        if self.parser.should_keep_alive():
            self.proxy.idle.append(self)
        else:
            self.transport.close()
        if client is not None:
            client.transport.write(
                b"HTTP/1.1 %d OK\r\n%s\r\nContent-Length: %d\r\n\r\n%s"
                % (status, head, len(body), body)
            )

    def connection_lost(self, exc: Exception | None) -> None:
        if self in self.proxy.idle:
            self.proxy.idle.remove(self)
        if self.client is not None:
            self.client.transport.write(BAD_GATEWAY)
            self.client = None


class Client(asyncio.Protocol):
    """One client connection; each request goes to an idle upstream connection."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.url = b""
        self.head: list[bytes] = []
        self.forwarded = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.forwarded = b"X-Forwarded-For: " + str(peer[0]).encode()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url = b""
        self.head = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() not in HOP:
            self.head.append(name + b": " + value)

    def on_message_complete(self) -> None:
        burn = self.proxy.burn
        if burn:
            end = time.thread_time() + burn
            while time.thread_time() < end:
                pass
        self.head.append(self.forwarded)
        request = b"%s %s HTTP/1.1\r\n%s\r\n\r\n" % (
            self.parser.get_method(),
            self.url,
            b"\r\n".join(self.head),
        )
        proxy = self.proxy
        if proxy.idle:
            proxy.idle.pop().send(self, request)
        else:
            asyncio.ensure_future(proxy.connect_and_send(self, request))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


class Proxy:
    upstream_class: type[Upstream] = Upstream  # bench/floor_lean.py brings its own

    def __init__(self, upstream: str, burn_us: float = 0.0) -> None:
        self.burn = burn_us / 1e6
        parts = urlsplit(upstream)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.idle: list[Upstream] = []

    async def connect_and_send(self, client: Client, request: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, up = await loop.create_connection(
                lambda: self.upstream_class(self), self.host, self.port
            )
        except OSError:
            if client.transport is not None:
                client.transport.write(BAD_GATEWAY)
            return
        up.send(client, request)


async def serve(port: int, proxy: Any, client: type[asyncio.Protocol]) -> None:
    """Serve ``client(proxy)`` protocols on 127.0.0.1:``port`` (bench/floor_lean.py too)."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: client(proxy), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def arguments(doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--no-uvloop", action="store_true", help="asyncio's own loop")
    return parser


def run(main: Coroutine[Any, Any, None], no_uvloop: bool) -> None:
    if no_uvloop:
        asyncio.run(main)
    else:
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--burn-us", type=float, default=0.0, help="more CPU per request")
    args = parser.parse_args(argv)
    run(serve(args.port, Proxy(args.upstream, args.burn_us), Client), args.no_uvloop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
