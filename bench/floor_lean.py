"""A lean asyncio + uvloop + httptools gateway hot path: what the gateway's per-request
work costs when it is written as a few straight functions on the fastest loop.

    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) \
        python -m bench.floor_lean --port 8001 --upstream http://127.0.0.1:8002 [--no-uvloop]

bench/floor_uvloop.py with the gateway's own per-request steps, using the gateway's
modules where they are pure: the route table (gateway/routing.py: version prefix,
match, 404/405, remembered per method and raw path), the request id
(shared/requestid.py: the client's sanitised or a new one, forwarded and answered),
the header rules (hop-by-hop, the names the request's ``Connection`` lists, any
``X-Tsubame-*`` a client sends; ``X-Forwarded-For``/``-Proto`` added; the answer's
hop-by-hop, ``Date``, ``Server`` and ``X-Request-Id`` replaced), 401 for a route that
needs a token when none is given, the request counter (gateway/metrics.py, the
Prometheus multiprocess file the real gateway writes) and gunicorn's answer framing
(``Server``, ``Date`` once per second, ``Connection``, the ``Supported-*`` headers).

Not here (the rest of the gateway): token introspection and identity signing (a
token is refused: the bench's path is public), bodies, streaming, upgrades, several
upstreams and instances, failover, 502/504, and every refusal the real gateway leaves
to gunicorn. It is a measuring device for the design question in gateway/README.md
("Speed"), not a gateway: the per-request cost of those steps, next to
``uvloop-bare`` (none of them) and the gateway itself.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from bench import floor_uvloop as bare
from gateway.metrics import Metrics
from gateway.responses import RESPONSE_DROP, SUPPORTED, connection_tokens
from gateway.routing import Match, load_table, strip_raw_version
from shared import requestid

HOP = frozenset(
    b"connection keep-alive proxy-connection te trailer transfer-encoding upgrade".split()
)
ANSWER_DROP = frozenset(n.encode() for n in RESPONSE_DROP) | {b"content-length"}
TAIL = "".join(f"{n}: {v}\r\n" for n, v in SUPPORTED).encode()


def _plain(status: str, message: str, rid: str, extra: str = "") -> bytes:
    body = (message + "\n").encode()
    return (
        f"HTTP/1.1 {status}\r\nServer: gunicorn\r\nDate: {formatdate(usegmt=True)}\r\n"
        f"Connection: keep-alive\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"X-Content-Type-Options: nosniff\r\n{extra}Content-Length: {len(body)}\r\n"
        f"X-Request-Id: {rid}\r\n\r\n"
    ).encode() + body


class Upstream(bare.Upstream):
    """One keep-alive connection to the service; answers go to ``self.client``."""

    proxy: Proxy
    client: Client | None  # type: ignore[assignment]

    def __init__(self, proxy: Proxy) -> None:
        super().__init__(proxy)
        self.connection = b""

    def send(self, client: Client, request: bytes) -> None:  # type: ignore[override]
        self.connection = b""
        super().send(client, request)

    def on_header(self, name: bytes, value: bytes) -> None:
        low = name.lower()
        if low == b"connection":
            self.connection = value
        elif low not in ANSWER_DROP:
            self.head.append(name + b": " + value + b"\r\n")

    def on_message_complete(self) -> None:
        client, self.client = self.client, None
        parser = self.parser
        status = parser.get_status_code()
        head = self.head
        if self.connection:
            named = {t.encode() for t in connection_tokens(self.connection.decode("latin-1"))}
            head = [h for h in head if h.split(b":", 1)[0].lower() not in named]
        if parser.should_keep_alive():
            self.proxy.idle.append(self)
        else:
            self.transport.close()
        if client is None or client.transport is None:
            return
        proxy = self.proxy
        proxy.metrics.count("auth", status)
        body = b"".join(self.body)
        client.transport.write(
            b"HTTP/1.1 %d %s\r\nServer: gunicorn\r\nDate: %s\r\nConnection: keep-alive\r\n"
            b"%sContent-Length: %d\r\n%sX-Request-Id: %s\r\n\r\n%s"
            % (
                status,
                proxy.reason(status),
                proxy.date(),
                b"".join(head),
                len(body),
                TAIL,
                client.rid.encode(),
                body,
            )
        )


class Client(bare.Client):
    """One client connection; each request is routed, then sent on an idle upstream."""

    def __init__(self, proxy: Proxy) -> None:
        super().__init__(proxy)
        self.proxy: Proxy = proxy
        self.forwarded: str = ""  # type: ignore[assignment]
        self.rid = ""
        self.given_rid = b""
        self.connection = b""
        self.token = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.forwarded = str(transport.get_extra_info("peername")[0])

    def on_message_begin(self) -> None:
        self.url = b""
        self.head = []
        self.given_rid = b""
        self.connection = b""
        self.token = False

    def on_header(self, name: bytes, value: bytes) -> None:
        low = name.lower()
        if low in HOP:
            if low == b"connection":
                self.connection = value
        elif low == b"x-request-id":
            self.given_rid = value
        elif low == b"authorization":
            self.token = True
        elif not low.startswith(b"x-tsubame-") and not low.startswith(b"x-forwarded-"):
            self.head.append(name + b": " + value + b"\r\n")

    def on_message_complete(self) -> None:
        proxy = self.proxy
        rid = self.rid = requestid.accept(self.given_rid or None)
        method = self.parser.get_method().decode()
        path, _, query = self.url.decode("latin-1").partition("?")
        forward_path, found = proxy.route(method, path)
        if not isinstance(found, Match):
            proxy.metrics.count("none", 404 if found is None else 405)
            if found is None:
                self.transport.write(_plain("404 Not Found", "404 page not found", rid))
            else:
                allow = f"Allow: {', '.join(found.allowed)}\r\n"
                self.transport.write(
                    _plain("405 Method Not Allowed", "405 method not allowed", rid, allow)
                )
            return
        if self.token or not found.route.public:
            # No introspection here (see the module's docstring).
            proxy.metrics.count(found.route.owner, 401)
            self.transport.write(_plain("401 Unauthorized", "You must provide a valid token", rid))
            return
        head = self.head
        if self.connection:
            named = {t.encode() for t in connection_tokens(self.connection.decode("latin-1"))}
            head = [h for h in head if h.split(b":", 1)[0].lower() not in named]
        target = forward_path + ("?" + query if query else "")
        request = (
            f"{method} {target} HTTP/1.1\r\n".encode()
            + b"".join(head)
            + f"X-Request-Id: {rid}\r\nX-Forwarded-For: {self.forwarded}\r\n"
            f"X-Forwarded-Proto: http\r\n\r\n".encode()
        )
        if proxy.idle:
            proxy.idle.pop().send(self, request)
        else:
            asyncio.ensure_future(proxy.connect_and_send(self, request))


class Proxy(bare.Proxy):
    upstream_class = Upstream

    def __init__(self, upstream: str, metrics_dir: Path) -> None:
        super().__init__(upstream)
        self.idle: list[Upstream] = []  # type: ignore[assignment]
        self.table = load_table()
        self.routes: dict[tuple[str, str], tuple[str, Any]] = {}
        self.metrics = Metrics(metrics_dir)
        self._date = (0, b"")
        self._reasons: dict[int, bytes] = {}

    def route(self, method: str, raw_path: str) -> tuple[str, Any]:
        key = (method, raw_path)
        known = self.routes.get(key)
        if known is None:
            forward = strip_raw_version(raw_path)
            decoded = unquote_to_bytes(forward).decode("utf-8", "replace")
            known = self.routes[key] = (forward, self.table.match_path(method, decoded))
        return known

    def date(self) -> bytes:
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, formatdate(now, usegmt=True).encode())
        return self._date[1]

    def reason(self, status: int) -> bytes:
        reason = self._reasons.get(status)
        if reason is None:
            from http import HTTPStatus

            try:
                reason = HTTPStatus(status).phrase.encode()
            except ValueError:
                reason = b"Unknown"
            self._reasons[status] = reason
        return reason


def main(argv: list[str] | None = None) -> int:
    parser = bare.arguments(__doc__)
    args = parser.parse_args(argv)
    # prometheus_client chooses its multiprocess value class (a file per process, as in
    # the gateway's workers) on import, from this variable.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or not os.path.isdir(directory):
        parser.error("PROMETHEUS_MULTIPROC_DIR must name a directory (see the usage above)")
    proxy = Proxy(args.upstream, Path(directory))
    bare.run(bare.serve(args.port, proxy, Client), args.no_uvloop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
