"""Forwarding a proxied request to a service API and streaming its answer back
(catalog.md §e.3): a reverse proxy with tsuru's header rules, bounded.

Both bodies stream: the client's body is passed on as it arrives (with its length
when the client gave one), the answer is yielded chunk by chunk. Bounds: the request
body is the route's (``TSUBAME_MAX_BODY_SIZE``); the answer stops after
``max_bytes``; each wait for the API is at most ``read_timeout``. An API that cannot
be reached answers 502 with an empty body, as tsuru's ReverseProxy does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import requests

from services.catalog.domain.rules import endpoint_problem
from services.catalog.operations.deps import ProxyRequest, ProxyResponse

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "content-length",
    }
)  # fmt: skip


class _Body:
    """The client's body as a file with a length: requests then sends it with
    Content-Length, streaming, instead of chunked."""

    def __init__(self, stream: Any, length: int) -> None:
        self._stream = stream
        self._length = length

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        return data


class HttpProxy:
    def __init__(
        self,
        *,
        connect_timeout: float = 15.0,
        read_timeout: float = 300.0,
        max_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes

    def forward(self, request: ProxyRequest) -> ProxyResponse:
        if endpoint_problem(request.url):
            return ProxyResponse(502, [], iter(()))
        headers = dict(request.headers)
        length = next((v for k, v in request.headers if k.lower() == "content-length"), None)
        body: Any = request.body
        if hasattr(body, "read"):
            body = _Body(body, int(length)) if length and length.isdigit() else _chunks(body)
        forwarded = [v for k, v in request.headers if k.lower() == "x-forwarded-for"]
        headers = {k: v for k, v in headers.items() if k.lower() != "x-forwarded-for"}
        headers["X-Forwarded-For"] = ", ".join([*forwarded, request.client_ip])
        # Go asks for gzip and unpacks it itself: the client gets the plain body either way.
        if not any(k.lower() == "accept-encoding" for k in headers):
            headers["Accept-Encoding"] = "identity"
        session = requests.Session()
        session.trust_env = False
        try:
            resp = session.request(
                request.method,
                request.url,
                headers=headers,
                data=body if request.method not in ("GET", "HEAD") or length else None,
                auth=request.auth,
                stream=True,
                allow_redirects=False,
                timeout=(self.connect_timeout, self.read_timeout),
            )
        except requests.RequestException as exc:
            log.warning("proxy %s %s: %s", request.method, request.url, exc)
            session.close()
            return ProxyResponse(502, [], iter(()))
        out_headers = [(k, v) for k, v in resp.raw.headers.items() if k.lower() not in HOP_BY_HOP]
        return ProxyResponse(resp.status_code, out_headers, self._stream(resp, session))

    def _stream(self, resp: requests.Response, session: requests.Session) -> Iterator[bytes]:
        sent = 0
        try:
            for chunk in resp.raw.stream(64 * 1024, decode_content=False):
                sent += len(chunk)
                if sent > self.max_bytes:
                    log.warning("proxy: answer of %s cut at %d bytes", resp.url, self.max_bytes)
                    return
                yield chunk
        except Exception as exc:  # the API went away mid-answer: end what was sent
            log.warning("proxy: answer of %s broken: %s", resp.url, exc)
        finally:
            resp.close()
            session.close()


def _chunks(stream: Any) -> Iterator[bytes]:
    while True:
        chunk = stream.read(64 * 1024)
        if not chunk:
            return
        yield chunk
