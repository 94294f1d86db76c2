"""The gateway's WSGI application: route, authenticate, forward, stream.

It never reads a body beyond what forwarding needs and holds no business rule
(STYLE.md habit 12).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

from shared.errors import AUTH_REQUIRED
from shared.identity import IDENTITY_HEADER, Identity, parse_authorization

from .authn import Introspector, Refusal
from .local import LocalRoutes
from .metrics import Metrics
from .responses import (
    HOP_BY_HOP,
    RESPONSE_DROP,
    SUPPORTED,
    WWW_AUTHENTICATE,
    connection_tokens,
    status_line,
    text,
)
from .routing import Match, RouteTable, strip_version
from .tunnel import splice, upgrade_requested
from .upstream import (
    Relay,
    RequestBody,
    ServiceUnavailable,
    Upstream,
    UpstreamResponse,
    UpstreamTimeout,
)

log = logging.getLogger("tsubame.gateway")

StartResponse = Callable[..., Any]
Environ = dict[str, Any]

_IDENTITY_ENV = "HTTP_" + IDENTITY_HEADER.upper().replace("-", "_")
# Request headers never forwarded: hop-by-hop ones, the identity a client may have
# forged, and Expect (gunicorn already answered 100-continue to the client).
_REQUEST_DROP_ENV = frozenset(
    {"HTTP_" + h.upper().replace("-", "_") for h in HOP_BY_HOP}
    | {_IDENTITY_ENV, "HTTP_EXPECT", "HTTP_X_FORWARDED_FOR"}
)
# Small responses are read at once and sent with their length (one write).
SMALL_BODY = 64 * 1024


_NAMES: dict[str, str] = {}


def _header_name(env_key: str) -> str:
    """``HTTP_X_FOO_BAR`` -> ``X-Foo-Bar`` (memoised: the same few names come again)."""
    name = _NAMES.get(env_key)
    if name is None:
        name = "-".join(part.capitalize() for part in env_key[5:].split("_"))
        if len(_NAMES) < 1024:
            _NAMES[env_key] = name
    return name


def _target(environ: Environ) -> tuple[str, str]:
    """The raw (still percent-encoded) path and query of the request."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if not raw.startswith("/"):
            parts = urlsplit(raw)
            return parts.path or "/", parts.query
        path, _, query = raw.partition("?")
        return path, query
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
    return path, environ.get("QUERY_STRING", "")


class Gateway:
    def __init__(
        self,
        table: RouteTable,
        upstreams: Mapping[str, Upstream],
        introspector: Introspector,
        local: LocalRoutes,
        metrics: Metrics,
        *,
        apps_domain: str = "",
    ) -> None:
        self.table = table
        self.upstreams = upstreams
        self.introspector = introspector
        self.local = local
        self.metrics = metrics
        self.apps_domain = apps_domain

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if self.apps_domain and self._is_app_host(environ):
            status, headers, body = text(
                501, "routing application traffic through the gateway is not built yet"
            )
            start_response(status, headers)
            return [body]

        method = environ["REQUEST_METHOD"]
        found = self.table.match(method, environ.get("PATH_INFO", ""))
        if found is None:
            # tsuru's router answers before its version-header middleware: no Supported-*.
            self.metrics.count("none", 404)
            status, headers, body = text(404, "404 page not found")
            start_response(status, headers)
            return [body]
        if not isinstance(found, Match):
            self.metrics.count("none", 405)
            status, headers, body = text(
                405, "405 method not allowed", [("Allow", ", ".join(found.allowed))]
            )
            start_response(status, headers)
            return [body]

        route = found.route
        owner = route.owner
        identity: Identity | None = None
        signed = ""
        auth_header = environ.get("HTTP_AUTHORIZATION")
        token = parse_authorization(auth_header) if auth_header else None
        if token:
            try:
                resolved = self.introspector.resolve(token)
            except ServiceUnavailable:
                return self._fail(start_response, owner, "auth", 502)
            except UpstreamTimeout:
                return self._fail(start_response, owner, "auth", 504)
            if isinstance(resolved, Refusal):
                return self._answer(start_response, owner, text(resolved.status, resolved.message))
            if resolved is not None:
                identity, signed = resolved
        if identity is None and not route.public:
            return self._answer(
                start_response,
                owner,
                text(401, AUTH_REQUIRED, [("WWW-Authenticate", WWW_AUTHENTICATE)]),
            )

        if owner == "gateway":
            _, query = _target(environ)
            return self._answer(start_response, owner, self.local.answer(route, query, identity))
        return self._forward(environ, start_response, owner, signed)

    # -- forwarding ---------------------------------------------------------------------

    def _forward(
        self, environ: Environ, start_response: StartResponse, owner: str, signed: str
    ) -> Iterable[bytes]:
        raw_path, query = _target(environ)
        target = strip_version(raw_path) + ("?" + query if query else "")
        drop = _REQUEST_DROP_ENV
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if key[:5] == "HTTP_" and key not in drop:
                headers[_header_name(key)] = value
        dropped_by_connection = connection_tokens(environ.get("HTTP_CONNECTION"))
        if dropped_by_connection:
            headers = {k: v for k, v in headers.items() if k.lower() not in dropped_by_connection}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
        remote = environ.get("REMOTE_ADDR", "")
        headers["X-Forwarded-For"] = f"{forwarded_for}, {remote}" if forwarded_for else remote
        headers.setdefault("X-Forwarded-Proto", environ.get("wsgi.url_scheme", "http"))
        if signed:
            headers[IDENTITY_HEADER] = signed

        # A websocket (or other upgrade) goes on a fresh connection that the gateway
        # splices to the client's socket if the service agrees (101).
        tunnel = upgrade_requested(environ) and environ.get("gunicorn.socket") is not None
        if tunnel:
            headers["Connection"] = "Upgrade"
            headers["Upgrade"] = environ["HTTP_UPGRADE"]

        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        body = RequestBody.from_wsgi(environ["wsgi.input"], environ.get("CONTENT_LENGTH"), chunked)
        try:
            resp = self.upstreams[owner].send(
                environ["REQUEST_METHOD"], target, headers, body, fresh=tunnel
            )
        except ServiceUnavailable:
            return self._fail(start_response, owner, owner, 502)
        except UpstreamTimeout:
            return self._fail(start_response, owner, owner, 504)
        if tunnel and resp.status == 101:
            self._splice(environ["gunicorn.socket"], owner, resp)

        drop = RESPONSE_DROP | connection_tokens(resp.connection_header)
        out = [(name, value) for name, value in resp.headers if name.lower() not in drop]
        out.extend(SUPPORTED)
        self.metrics.count(owner, resp.status)
        start_response(status_line(resp.status, resp.reason), out)
        if resp.length is not None and resp.length <= SMALL_BODY:
            try:
                data = resp.read()
            finally:
                resp.release()
            return [data]
        return Relay(resp)

    def _splice(self, client: Any, owner: str, resp: UpstreamResponse) -> NoReturn:
        conn, leftover = resp.detach()
        lines = [f"HTTP/1.1 101 {resp.reason or 'Switching Protocols'}"]
        lines += [f"{name}: {value}" for name, value in resp.headers]
        lines += [f"{name}: {value}" for name, value in SUPPORTED]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.metrics.count(owner, 101)
        try:
            assert conn.sock is not None
            splice(client, conn.sock, head, leftover)
        finally:
            conn.close()
        # The connection was taken over and is finished. gunicorn's async workers treat
        # StopIteration from the application as "close this client connection now,
        # write nothing" (gunicorn/workers/base_async.py, handle_request).
        raise StopIteration

    # -- answers written by the gateway ---------------------------------------------------

    def _answer(
        self,
        start_response: StartResponse,
        owner: str,
        answer: tuple[str, list[tuple[str, str]], bytes],
    ) -> Iterable[bytes]:
        status, headers, body = answer
        self.metrics.count(owner, int(status[:3]))
        start_response(status, headers + SUPPORTED)
        return [body]

    def _fail(
        self, start_response: StartResponse, owner: str, failed: str, code: int
    ) -> Iterable[bytes]:
        kind = "unavailable" if code == 502 else "timeout"
        self.metrics.error(failed, kind)
        message = (
            f"service {failed} is unavailable"
            if code == 502
            else f"service {failed} did not answer in time"
        )
        return self._answer(start_response, owner, text(code, message))

    def _is_app_host(self, environ: Environ) -> bool:
        host = environ.get("HTTP_HOST", "").lower()
        if host.startswith("["):
            return False
        host = host.rsplit(":", 1)[0].rstrip(".")
        return host.endswith("." + self.apps_domain) and len(host) > len(self.apps_domain) + 1
