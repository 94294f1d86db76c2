"""App traffic: a request whose Host is an app's address goes to the app's units.

``Gateway.__call__`` asks ``AppTraffic`` first; it answers None for any other host
(the API). For an app host (``<app>.<TSUBAME_APPS_DOMAIN>`` or a cname, see
gateway/apptable.py) the request is forwarded, as it came, to one of the app's
routable units, round robin (gateway/upstream.py: a unit refusing the connection is
skipped; a request is sent to another unit after one failed while handling it only
if its method is idempotent), over keep-alive connections. Bodies stream both ways;
an upgrade (websocket) is spliced to the client's socket. No authentication and no
identity: a client's ``X-Tsubame-*`` headers are dropped, the gateway adds none.
``X-Forwarded-For`` gets the client's address appended; ``X-Forwarded-Proto`` and
``X-Forwarded-Host`` are set by the gateway (a client's own are replaced).

Answers of the gateway itself (plain text): 404 for an app address nobody holds, 503
when the app has no routable unit (stopped, asleep, not deployed) or while the table
is not loaded yet, 502 when no unit could be reached, 504 when the unit did not send
its answer's head in time (``TSUBAME_GATEWAY_TIMEOUT``).

``RouteFollower`` keeps the table current: a load at start (retried until the
provisioner answers, never holding API traffic), one after every (re)connection to
the bus (messages published while disconnected are lost), one every
``follower.RESYNC_SECONDS`` (a message the provisioner could not publish), and every
``provisioner.routes.changed`` message in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, NoReturn
from urllib.parse import urlsplit

from shared.bus import Bus, keys
from shared.client import InternalClient

from .apptable import AppRoute, AppTable, InvalidRoute, normalize_host
from .follower import Follower
from .headers import RequestHeaders, answer_headers
from .metrics import Metrics
from .requestbody import BodyTooLarge, RequestBody
from .responses import HOP_BY_HOP, status_line, text
from .settings import GatewaySettings
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

# The metrics' "service" label of app traffic (one label for every app: bounded).
SERVICE = "app-router"
# The first requests of a fresh worker wait this long for the first load.
LOAD_WAIT = 5.0
# Host headers normalised, remembered (the same few come again; bounded).
HOSTS_MAX = 1024
_DROP_ENV = frozenset(
    {"HTTP_" + h.upper().replace("-", "_") for h in HOP_BY_HOP}
    | {"HTTP_EXPECT", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST"}
)
_INTERNAL_ENV = "HTTP_X_TSUBAME_"


_REQUEST_HEADERS = RequestHeaders(lambda key: key in _DROP_ENV or key.startswith(_INTERNAL_ENV))


def _target(environ: Environ) -> str:
    """The request target as the client wrote it (origin form)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        return str(raw)
    if raw:  # absolute form: keep the path and query
        after = raw.split("://", 1)[-1]
        slash = after.find("/")
        return after[slash:] if slash >= 0 else "/"
    query = environ.get("QUERY_STRING", "")
    path = environ.get("PATH_INFO", "") or "/"
    return path + ("?" + query if query else "")


class AppTraffic:
    def __init__(self, table: AppTable, metrics: Metrics, *, load_wait: float = LOAD_WAIT) -> None:
        self.table = table
        self.metrics = metrics
        self.load_wait = load_wait
        self._hosts: dict[str, str] = {}  # Host header -> normalised host name

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes] | None:
        """The answer for an app host; None for any other host (the API's)."""
        raw = environ.get("HTTP_HOST")
        if not raw:
            return None
        host = self._host(raw)
        table = self.table
        route = table.lookup(host)
        if route is None:
            if not table.in_domain(host):
                return None
            if not table.loaded.is_set() and table.loaded.wait(self.load_wait):
                route = table.lookup(host)
            if route is None:
                if not table.loaded.is_set():
                    return self._answer(
                        start_response, 503, "the app routes are not loaded yet, try again later"
                    )
                return self._answer(start_response, 404, "no app is routed at this address")
        if not route.backends:
            why = "is asleep" if route.asleep else "has no started units"
            return self._answer(start_response, 503, f'app "{route.app}" {why}')
        return self._forward(route, environ, start_response)

    def find(self, raw: str) -> tuple[bool, AppRoute | None]:
        """Whether a request with ``Host: raw`` is app traffic, and the app's route when
        it has a unit to forward to (None: the router answers it itself)."""
        if not raw:
            return False, None
        host = self._host(raw)
        table = self.table
        route = table.lookup(host)
        if route is None:
            return table.in_domain(host), None
        return True, route if route.backends else None

    def _host(self, raw: str) -> str:
        host = self._hosts.get(raw)
        if host is None:
            host = normalize_host(raw)
            if len(self._hosts) >= HOSTS_MAX:
                self._hosts = {}
            self._hosts[raw] = host
        return host

    def _forward(
        self, route: AppRoute, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        headers = _REQUEST_HEADERS(environ)
        forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
        remote = environ.get("REMOTE_ADDR", "")
        headers["X-Forwarded-For"] = f"{forwarded_for}, {remote}" if forwarded_for else remote
        headers["X-Forwarded-Proto"] = environ.get("wsgi.url_scheme", "http")
        headers["X-Forwarded-Host"] = environ.get("HTTP_HOST", "")

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
        )
        try:
            resp = route.upstream.send(
                environ["REQUEST_METHOD"], _target(environ), headers, body, fresh=tunnel
            )
        except BodyTooLarge:  # no limit is given for app traffic; kept for completeness
            return self._answer(start_response, 413, "request body too large")
        except (ServiceUnavailable, UpstreamTimeout) as exc:
            status, out, data = self.failure(route.app, exc)
            start_response(status, out)
            return [data]
        if tunnel and resp.status == 101:
            self._splice(environ["gunicorn.socket"], resp)

        out = answer_headers(resp)
        self.metrics.count(SERVICE, resp.status)
        start_response(status_line(resp.status, resp.reason), out)
        if resp.complete:  # a small body, read whole by the upstream (one write)
            data = resp.read()
            resp.release()
            return [data]
        return Relay(resp)

    def _splice(self, client: Any, resp: UpstreamResponse) -> NoReturn:
        conn, leftover = resp.detach()
        lines = [f"HTTP/1.1 101 {resp.reason or 'Switching Protocols'}"]
        lines += [f"{name}: {value}" for name, value in resp.headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.metrics.count(SERVICE, 101)
        try:
            assert conn.sock is not None
            splice(client, conn.sock, head, leftover)
        finally:
            conn.close()
        # gunicorn's async workers close the client connection on StopIteration (see
        # Gateway._splice).
        raise StopIteration

    def failure(
        self, app: str, exc: ServiceUnavailable | UpstreamTimeout
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """The router's answer when no unit of ``app`` could be reached (502) or none
        answered in time (504), counted."""
        if isinstance(exc, ServiceUnavailable):
            code, kind, message = 502, "unavailable", f'app "{app}" is unavailable'
        else:
            code, kind, message = 504, "timeout", f'app "{app}" did not answer in time'
        self.metrics.error(SERVICE, kind)
        self.metrics.count(SERVICE, code)
        return text(code, message)

    def _answer(self, start_response: StartResponse, code: int, message: str) -> Iterable[bytes]:
        self.metrics.count(SERVICE, code)
        status, headers, body = text(code, message)
        start_response(status, headers)
        return [body]


class RouteFollower(Follower[AppTable]):
    """Loads the table and applies each change message (gateway/follower.py)."""

    subject = "app routes"
    thread_name = "gateway-app-routes"
    queue_prefix = "gateway.routes"
    routing_keys = (keys.ROUTES_CHANGED,)

    def load_once(self) -> None:
        before = self._table.snapshot()
        answer = self._fetch()
        if not isinstance(answer, dict) or not isinstance(answer.get("routes"), list):
            raise InvalidRoute("the provisioner's route table is not {seq, routes}")
        self._table.load(before, answer["routes"])
        self.loads += 1

    def on_message(self, _key: str, body: dict[str, Any]) -> None:
        app, seq = body.get("app"), body.get("seq")
        if not isinstance(app, str) or not isinstance(seq, int) or isinstance(seq, bool):
            log.warning("ignored an unreadable route message: %r", body)
            return
        try:
            self._table.apply(app, seq, body.get("route"))
        except InvalidRoute as exc:
            log.warning("ignored a route message: %s", exc)


def start_app_traffic(
    settings: GatewaySettings, metrics: Metrics, *, listen_bus: bool = True
) -> AppTraffic | None:
    """The app router of one worker, its table loading (None: no apps domain set)."""
    if not settings.apps_domain:
        return None
    base = settings.base

    def backends(app: str) -> Upstream:
        return Upstream(
            f"app {app}",
            (),
            timeout=settings.timeout,
            connect_timeout=settings.connect_timeout,
            pool_size=settings.pool_size,
        )

    table = AppTable(
        settings.apps_domain, backends, reserved=[urlsplit(base.public_url).hostname or ""]
    )
    provisioner = InternalClient.to("provisioner", base, caller="gateway", timeout=10.0)
    follower = RouteFollower(
        table,
        lambda: provisioner.get("/internal/routes"),
        (lambda: Bus(base.amqp_url, base.namespace)) if listen_bus else None,
    )
    follower.start()
    return AppTraffic(table, metrics)
