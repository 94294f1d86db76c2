"""The express lane: a plain GET to a service or an app, forwarded with no WSGI between.

Profiled under load (gateway/README.md, "Speed"), a third of the gateway worker's CPU
on a proxied request went to shapes, not work: the WSGI environ built from the head,
the headers copied out of it again into a dict, that dict written back out as lines,
the request body object of a request that has none, the application's layers. The
fast loop (gateway/fastpath.py) hands a head here first; when the request is one the
lane serves, it goes from the client's header lines to the upstream's request bytes
directly, and the answer goes back through the fast loop's framing
(gateway/fastresponse.py). The lane serves:

* ``GET`` (the route table has no HEAD route), HTTP/1.1, no body, headers in their
  plain form (the fast loop's rules: anything gunicorn gives a meaning to is its);
* at most one Host, Authorization, Content-Type, X-Forwarded-For and X-Request-Id,
  and a Connection header naming nothing but ``close`` or ``keep-alive``;
* app traffic (gateway/apptraffic.py): a Host that is an app's with a unit to forward
  to, and no ``X-Tsubame-*`` or ``X-Forwarded-Host`` header (the router drops them);
* any other Host: a route owned by a service (not the gateway's own, not a 404 or
  405), no token or one whose introspection is cached and fresh, a route that needs
  one having it.

Any other request goes to the application as before (``plan()`` answers None) and
nothing has been sent or changed yet. The asyncio front (gateway/front.py) plans with
this same class and runs the plan on its own loop (gateway/frontup.py: ``failed()``,
``headers()`` and ``whole()`` are shared), handing what it does not serve to gunicorn. What the lane forwards is what the application
forwards: the client's headers (hop-by-hop ones and a client's identity header
dropped), ``X-Forwarded-For`` with the client's address appended,
``X-Forwarded-Proto``, to a service the signed identity (the application's signature
cache), to an app ``X-Forwarded-Host``, the request id; the answer carries the same
headers, counters and 502/504 answers, and the upstream client is the same
(gateway/upstream.py: pools, round robin, a request an instance may have acted on
sent again only if idempotent, as a GET is).
"""

from __future__ import annotations

from typing import Any

from gunicorn.http.wsgi import TOKEN_RE

from shared import requestid
from shared.identity import IDENTITY_HEADER, parse_authorization

from .app import Gateway
from .apptraffic import SERVICE
from .fastpath import GUNICORN_HEADERS, NAME_RE
from .fastresponse import Response, clean_lines, status_ok
from .headers import answer_headers
from .responses import HOP_BY_HOP, RESPONSE_DROP, SUPPORTED, connection_tokens, status_line
from .routing import Match
from .upstream import Relay, ServiceUnavailable, Upstream, UpstreamResponse, UpstreamTimeout

# What a request header is to the lane (by its raw name, remembered; bounded).
_PLAIN, _DROP, _HOST, _AUTH, _CONNECTION, _FORWARDED, _RID, _ONCE, _INTERNAL, _OTHER = range(10)
_KINDS: dict[bytes, int] = {}
_KINDS_MAX = 1024
_SPECIAL = {
    "host": _HOST,
    "authorization": _AUTH,
    "connection": _CONNECTION,
    "x-forwarded-for": _FORWARDED,
    requestid.HEADER.lower(): _RID,
    "content-type": _ONCE,
    # Forwarded to a service, dropped or replaced for an app (gateway/apptraffic.py).
    "x-forwarded-host": _INTERNAL,
}
_INTERNAL_PREFIX = "x-tsubame-"
# Read here and forwarded as they came (the others are rewritten or dropped).
_PASSED_ON = frozenset({_HOST, _AUTH, _ONCE})
_DROPPED = (HOP_BY_HOP - {"connection"}) | {IDENTITY_HEADER.lower()}
_CONNECTION_TOKENS = frozenset({"close", "keep-alive"})
_PLAIN_CONNECTION = frozenset({"close", "keep-alive", "Close", "Keep-Alive"})
_METHODS = {b"GET": "GET"}  # the table has no HEAD route: HEAD is a 405
_RID_HEADER = requestid.HEADER.encode("ascii")
_IDENTITY = IDENTITY_HEADER.encode("ascii") + b": "


def _kind(name: bytes) -> int:
    kind = _KINDS.get(name)
    if kind is None:
        if not NAME_RE.fullmatch(name):
            return _OTHER
        lower = name.decode("ascii").lower()
        if lower.upper() in GUNICORN_HEADERS:
            kind = _OTHER
        elif lower in _DROPPED:
            kind = _DROP
        elif lower.startswith(_INTERNAL_PREFIX):
            kind = _INTERNAL
        else:
            kind = _SPECIAL.get(lower, _PLAIN)
        if len(_KINDS) < _KINDS_MAX:
            _KINDS[name] = kind
    return kind


class Plan:
    """A request the lane serves: where it goes and what it carries."""

    __slots__ = ("upstream", "owner", "app", "method", "head", "rid", "close")

    def __init__(
        self,
        upstream: Upstream,
        owner: str,
        app: str | None,
        method: str,
        head: bytes,
        rid: str,
        close: bool,
    ) -> None:
        self.upstream = upstream
        self.owner = owner  # the counters' service label
        self.app = app  # app traffic: the app's name; None: a service's route
        self.method = method
        self.head = head  # the request to the service, blank line included
        self.rid = rid
        self.close = close  # the client asked to close the connection after it


class Express:
    def __init__(self, gateway: Gateway, scheme: str) -> None:
        self.gateway = gateway
        self.proto = b"X-Forwarded-Proto: " + scheme.encode("ascii")

    def plan(
        self,
        method: bytes,
        target: bytes,
        lines: list[bytes],
        remote: str,
        uncached: list[str] | None = None,
    ) -> Plan | None:
        """The plan for a request the lane serves, None for any other (nothing done).

        ``lines``: the header lines of a head the fast loop checked (sizes, control
        characters, line ends), ``target`` in origin form. ``uncached``: given, gets
        the token of a request left only because its introspection is not cached."""
        name = _METHODS.get(method)
        if name is None:
            return None
        seen: dict[int, bytes] = {}  # the headers read here, by kind: one of each at most
        internal = False
        out = [b""]  # the request line, once known
        for line in lines:
            key, sep, value = line.partition(b":")
            kind = _KINDS.get(key)
            if kind is None:
                kind = _kind(key)
            if not sep:
                return None
            value = value.strip(b" \t")
            if kind == _PLAIN:
                out.append(key + b": " + value)
            elif kind == _DROP:
                continue
            elif kind == _INTERNAL:
                internal = True
                out.append(key + b": " + value)
            elif kind == _OTHER or kind in seen:
                return None
            else:
                seen[kind] = value
                if kind in _PASSED_ON:
                    out.append(key + b": " + value)
        host = seen.get(_HOST)
        auth = seen.get(_AUTH)
        connection = seen.get(_CONNECTION)
        forwarded = seen.get(_FORWARDED)
        rid = seen.get(_RID)
        if host is None:
            return None
        close = False
        if connection is not None:
            tokens = connection_tokens(connection.decode("latin-1"))
            if not tokens <= _CONNECTION_TOKENS:
                return None
            close = "close" in tokens
        gateway = self.gateway
        apps = gateway.apps
        if apps is not None:
            for_app, app_route = apps.find(host.decode("latin-1"))
            if for_app:
                if app_route is None or internal:
                    return None  # the router's own answers; headers it drops or replaces
                return self._plan(
                    out, method, target, app_route.upstream, SERVICE, app_route.app,
                    [b"X-Forwarded-Host: " + host], forwarded, remote, rid, close,
                )  # fmt: skip

        raw_path, mark, query = target.decode("ascii").partition("?")
        forward_path, found = gateway.route(name, raw_path)
        if type(found) is not Match:
            return None
        route = found.route
        owner = route.owner
        upstream = gateway.upstreams.get(owner)
        if upstream is None:  # the gateway's own routes
            return None
        extra = []
        token = parse_authorization(auth.decode("latin-1")) if auth else None
        if token:
            resolved = gateway.introspector.cached(token)
            if resolved is None:
                if uncached is not None:
                    uncached.append(token)
                return None  # introspection (or its refusal) is the application's
            signed = gateway.signed(resolved[1], name, forward_path)
            extra.append(_IDENTITY + signed.encode("latin-1"))
        elif not route.public:
            return None  # the application's 401
        target = b"%s%s%s" % (forward_path.encode("latin-1"), mark.encode(), query.encode())
        return self._plan(
            out, method, target, upstream, owner, None, extra, forwarded, remote, rid, close
        )

    def _plan(
        self,
        out: list[bytes],
        method: bytes,
        target: bytes,
        upstream: Upstream,
        owner: str,
        app: str | None,
        extra: list[bytes],
        forwarded: bytes | None,
        remote: str,
        rid: bytes | None,
        close: bool,
    ) -> Plan:
        """The request to forward: the client's lines ``out``, the forwarding headers."""
        request_id = requestid.accept(rid)
        requestid.bind(request_id)
        out[0] = method + b" " + target + b" HTTP/1.1"
        address = remote.encode("latin-1")
        out.append(b"X-Forwarded-For: " + (forwarded + b", " + address if forwarded else address))
        out.append(self.proto)
        out += extra
        out.append(_RID_HEADER + b": " + request_id.encode("ascii"))
        out.append(b"\r\n")
        return Plan(upstream, owner, app, "GET", b"\r\n".join(out), request_id, close)

    def run(self, plan: Plan, resp: Response) -> None:
        """Forward the planned request; its answer (or the 502/504) written to ``resp``."""
        gateway = self.gateway
        owner = plan.owner
        try:
            up = plan.upstream.send_head(plan.method, plan.head)
        except (ServiceUnavailable, UpstreamTimeout) as exc:
            self.failed(plan, exc, resp)
            return
        gateway.metrics.count(owner, up.status)
        if up.complete and self.whole(plan, up, resp):
            return
        headers = self.headers(plan, up)
        if up.complete:  # a small body, read whole by the upstream client
            try:
                resp.start_response(status_line(up.status, up.reason), headers)
                data = up.read()
            finally:
                up.release()
            resp.finish(data)
            return
        relay: Any = Relay(up)
        try:
            resp.start_response(status_line(up.status, up.reason), headers)
            for chunk in relay:
                resp.write(chunk)
            resp.finish(None)
        finally:
            relay.close()

    def failed(self, plan: Plan, exc: ServiceUnavailable | UpstreamTimeout, resp: Response) -> None:
        """The gateway's (or the app router's) 502/504 for ``plan``, counted, sent."""
        if plan.app is not None:
            assert self.gateway.apps is not None
            status, headers, body = self.gateway.apps.failure(plan.app, exc)
        else:
            code = 502 if isinstance(exc, ServiceUnavailable) else 504
            status, headers, body = self.gateway.failure(plan.owner, code)
        headers.append((requestid.HEADER, plan.rid))
        resp.start_response(status, headers)
        resp.finish(body)

    @staticmethod
    def headers(plan: Plan, up: UpstreamResponse) -> list[tuple[str, str]]:
        """The answer's headers to the client, by the general rules."""
        headers = answer_headers(up)
        if plan.app is None:
            headers += SUPPORTED
        headers.append((requestid.HEADER, plan.rid))
        return headers

    def whole(self, plan: Plan, up: UpstreamResponse, resp: Response) -> bool:
        """A small answer whose headers all pass as they are, sent whole (the framing
        ``run()`` would give it, with fewer steps); False: one needs the general rules
        (a status without a body, a Connection header naming others, a name or value
        gunicorn refuses), nothing sent."""
        status = up.status
        if status < 200 or status in _NO_BODY:
            return False
        connection = up.connection_header
        if (
            connection
            and connection not in _PLAIN_CONNECTION
            and not connection_tokens(connection) <= _CONNECTION_TOKENS
        ):
            return False
        lines = []
        for name, value in up.headers:
            kind = _ANSWER.get(name)
            if kind is None:
                kind = _answer_kind(name)
            if kind == _PASS:
                lines.append(f"{name}: {value}\r\n")
            elif kind == _REFUSED:
                return False
        if plan.app is None:
            lines += _SUPPORTED_LINES
        lines.append(f"{requestid.HEADER}: {plan.rid}\r\n")
        joined = "".join(lines)
        line = status_line(status, up.reason)
        if not clean_lines(joined, len(lines)) or not status_ok(line):
            return False
        try:
            data = up.read()
        finally:
            up.release()
        resp.send_whole(line, joined, data)
        return True


# An upstream answer's header (by name, checked once; bounded): passed on as it is,
# left out (hop-by-hop, framing, those the gateway writes), refused by gunicorn's check.
_PASS, _LEFT, _REFUSED = range(3)
_ANSWER: dict[str, int] = {}
_LEFT_OUT = RESPONSE_DROP | {"content-length"}
_NO_BODY = frozenset({204, 304})
_SUPPORTED_LINES = [f"{name}: {value}\r\n" for name, value in SUPPORTED]


def _answer_kind(name: str) -> int:
    if not TOKEN_RE.fullmatch(name):
        kind = _REFUSED
    else:
        kind = _LEFT if name.lower() in _LEFT_OUT else _PASS
    if len(_ANSWER) < _KINDS_MAX:
        _ANSWER[name] = kind
    return kind
