"""The gateway's WSGI application: route, authenticate, forward, stream.

It never reads a body beyond what forwarding needs and holds no business rule
(STYLE.md habit 12).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn
from urllib.parse import quote, unquote_to_bytes, urlsplit

from shared.errors import AUTH_REQUIRED
from shared.identity import IDENTITY_HEADER, Identity, parse_authorization, sign_subject
from shared.limits import too_large_message

from .apptraffic import AppTraffic
from .authn import AuthUnavailable, Introspector, Refusal
from .headers import RequestHeaders, answer_headers
from .limits import CLOSE, DRAIN_MAX, BodyLimits
from .local import LocalRoutes
from .metrics import Metrics
from .requestbody import BodyTooLarge, RequestBody
from .responses import (
    HOP_BY_HOP,
    SUPPORTED,
    WWW_AUTHENTICATE,
    status_line,
    text,
)
from .routing import Match, MethodNotAllowed, RouteTable, strip_raw_version
from .tunnel import splice, upgrade_requested
from .upstream import (
    Relay,
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
# Seconds a signed identity header is reused for the same caller, method and path: far
# below the age services accept (TSUBAME_IDENTITY_MAX_AGE, 15 s by default; bootstrap
# keeps it under a quarter of that), during which a captured header could be replayed
# anyway. Bounded, like the token cache.
REUSE_SIGNED = 1.0
SIGNATURES_MAX = 4096
ROUTES_MAX = 4096
_REQUEST_HEADERS = RequestHeaders(_REQUEST_DROP_ENV.__contains__)


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


def _decoded(raw_path: str) -> str:
    """The path as a WSGI server hands it to the service (``PATH_INFO``)."""
    return unquote_to_bytes(raw_path).decode("latin-1")


def _content_length(environ: Environ) -> int | None:
    raw = environ.get("CONTENT_LENGTH")
    return int(raw) if raw and raw.isdigit() else None


def _discard(stream: Any, length: int) -> None:
    while length > 0:
        chunk = stream.read(min(length, 64 * 1024))
        if not chunk:
            return
        length -= len(chunk)


class Gateway:
    def __init__(
        self,
        table: RouteTable,
        upstreams: Mapping[str, Upstream],
        introspector: Introspector,
        local: LocalRoutes,
        metrics: Metrics,
        *,
        secret: bytes,
        limits: BodyLimits,
        apps: AppTraffic | None = None,
        reuse_signed: float = REUSE_SIGNED,
    ) -> None:
        self.table = table
        self.upstreams = upstreams
        self.introspector = introspector
        self.local = local
        self.metrics = metrics
        self.secret = secret
        self.limits = limits
        self.apps = apps
        self.reuse_signed = reuse_signed
        self._signatures: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._routes: dict[tuple[str, str], tuple[str, Match | MethodNotAllowed | None]] = {}

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if self.apps is not None:  # app traffic (gateway/apptraffic.py), by Host
            routed = self.apps(environ, start_response)
            if routed is not None:
                return routed

        method = environ["REQUEST_METHOD"]
        raw_path, query = _target(environ)
        forward_path, found = self.route(method, raw_path)
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
        limit = self.limits.limit(route)
        declared = _content_length(environ)
        if declared is not None and declared > limit:
            return self._too_large(environ, start_response, owner, declared, limit)
        identity: Identity | None = None
        subject = ""
        auth_header = environ.get("HTTP_AUTHORIZATION")
        token = parse_authorization(auth_header) if auth_header else None
        if token:
            try:
                resolved = self.introspector.resolve(token)
            except AuthUnavailable as exc:
                log.warning("token introspection failed: %s", exc)
                self.metrics.error("auth", "unavailable")
                return self._answer(start_response, owner, text(503, exc.public))
            if isinstance(resolved, Refusal):
                return self._answer(start_response, owner, text(resolved.status, resolved.message))
            if resolved is not None:
                identity, subject = resolved
        if identity is None and not route.public:
            return self._answer(
                start_response,
                owner,
                text(401, AUTH_REQUIRED, [("WWW-Authenticate", WWW_AUTHENTICATE)]),
            )

        if owner == "gateway":
            answer = self.local.answer(
                route, query, identity, found.path, environ.get("HTTP_ACCEPT", "")
            )
            return self._answer(start_response, owner, answer)
        signed = self.signed(subject, method, forward_path) if subject else ""
        target = forward_path + ("?" + query if query else "")
        return self._forward(environ, start_response, owner, target, signed, limit)

    def route(self, method: str, raw_path: str) -> tuple[str, Match | MethodNotAllowed | None]:
        """The path to forward (its version prefix stripped) and what the table says of
        ``method`` on it; remembered per raw path (the same few come again), bounded."""
        key = (method, raw_path)
        known = self._routes.get(key)
        if known is None:
            # Normalised once: the path routed, signed and forwarded is the same one.
            forward_path = strip_raw_version(raw_path)
            known = (forward_path, self.table.match_path(method, _decoded(forward_path)))
            if len(self._routes) >= ROUTES_MAX:
                self._routes = {}
            self._routes[key] = known
        return known

    def signed(self, subject: str, method: str, path: str) -> str:
        """The identity header for ``method path``, reused while younger than
        ``reuse_signed`` (one HMAC per caller, path and second, not one per request)."""
        key = (subject, method, path)
        now = time.monotonic()
        held = self._signatures.get(key)
        if held is not None and held[0] > now:
            return held[1]
        signed = sign_subject(subject, self.secret, method=method, path=path)
        if len(self._signatures) >= SIGNATURES_MAX:
            self._signatures = {}
        self._signatures[key] = (now + self.reuse_signed, signed)
        return signed

    # -- forwarding ---------------------------------------------------------------------

    def _forward(
        self,
        environ: Environ,
        start_response: StartResponse,
        owner: str,
        target: str,
        signed: str,
        limit: int,
    ) -> Iterable[bytes]:
        headers = _REQUEST_HEADERS(environ)
        forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
        remote = environ.get("REMOTE_ADDR", "")
        headers["X-Forwarded-For"] = f"{forwarded_for}, {remote}" if forwarded_for else remote
        headers.setdefault("X-Forwarded-Proto", environ.get("wsgi.url_scheme", "http"))
        if signed:
            headers[IDENTITY_HEADER] = signed

        # A websocket (or other upgrade) goes on a fresh connection that the gateway
        # splices to the client's socket if the service agrees (101).
        tunnel = (
            "HTTP_UPGRADE" in environ
            and upgrade_requested(environ)
            and environ.get("gunicorn.socket") is not None
        )
        if tunnel:
            headers["Connection"] = "Upgrade"
            headers["Upgrade"] = environ["HTTP_UPGRADE"]

        body = RequestBody.from_wsgi(
            environ["wsgi.input"],
            environ.get("CONTENT_LENGTH"),
            "HTTP_TRANSFER_ENCODING" in environ
            and "chunked" in environ["HTTP_TRANSFER_ENCODING"].lower(),
            limit=limit,
        )
        try:
            resp = self.upstreams[owner].send(
                environ["REQUEST_METHOD"], target, headers, body, fresh=tunnel
            )
        except BodyTooLarge:
            return self._too_large(environ, start_response, owner, None, limit)
        except ServiceUnavailable:
            return self._fail(start_response, owner, 502)
        except UpstreamTimeout:
            return self._fail(start_response, owner, 504)
        if tunnel and resp.status == 101:
            self._splice(environ["gunicorn.socket"], owner, resp)

        out = answer_headers(resp)
        out += SUPPORTED
        self.metrics.count(owner, resp.status)
        start_response(status_line(resp.status, resp.reason), out)
        if resp.complete:  # a small body, read whole by the upstream (one write)
            data = resp.read()
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

    def _fail(self, start_response: StartResponse, owner: str, code: int) -> Iterable[bytes]:
        status, headers, body = self.failure(owner, code)
        start_response(status, headers)
        return [body]

    def failure(self, owner: str, code: int) -> tuple[str, list[tuple[str, str]], bytes]:
        """The gateway's answer when no instance of ``owner`` could be reached (502) or
        none answered in time (504), counted."""
        kind = "unavailable" if code == 502 else "timeout"
        self.metrics.error(owner, kind)
        message = (
            f"service {owner} is unavailable"
            if code == 502
            else f"service {owner} did not answer in time"
        )
        status, headers, body = text(code, message)
        self.metrics.count(owner, code)
        return status, headers + SUPPORTED, body

    def _too_large(
        self,
        environ: Environ,
        start_response: StartResponse,
        owner: str,
        declared: int | None,
        limit: int,
    ) -> Iterable[bytes]:
        """413, then the connection closes. A declared body not too far over the limit
        is read and dropped first, so the client is done sending and sees the answer
        (closing on unread data resets the connection before it can read it)."""
        if declared is None:  # chunked: drop what follows, within bounds
            _discard(environ["wsgi.input"], DRAIN_MAX)
        elif declared <= limit + DRAIN_MAX:
            _discard(environ["wsgi.input"], declared)
        status, headers, body = text(413, too_large_message(limit))
        return self._answer(start_response, owner, (status, [*headers, CLOSE], body))
