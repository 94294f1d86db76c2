"""The app route table a gateway worker holds (docs/runtime.md "App traffic").

The provisioner owns the routes; the gateway keeps a copy: loaded whole over HTTP
(``GET /internal/routes``) and kept current by ``provisioner.routes.changed``. Each
route carries the ``seq`` of the change that made it, one counter for the whole
table, so a message or a load older than what the table holds for an app is ignored
whatever order they arrive in:

* a route is taken only if its ``seq`` is above the one held for its app, and above
  the ``seq`` of the app's last removal (kept as a tombstone);
* a load removes an app it does not list only if the table held that app before the
  load was asked for and nothing changed it meanwhile: a route announced while the
  load was in flight may be missing from it (its write and the read raced) and is
  kept. Tombstones older than a finished load are dropped (the load saw the removal).

Hosts map to the route claiming them with the highest ``seq`` (during a swap both
apps' messages are not applied at once; the newer claim wins). Host names are lower
case without port or trailing dot. Hosts in ``reserved`` (the API's own names) and
IP literals are never an app's, whatever a route says.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.instances import UP

from .upstream import Upstream

NewBackends = Callable[[str], Upstream]


def normalize_host(raw: str) -> str:
    """``Shop.Example.COM.:8080`` -> ``shop.example.com``; IPv6 literals kept bracketed."""
    host = raw.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else host
    name, sep, port = host.rpartition(":")
    if sep and (port.isdigit() or not port):
        host = name
    return host.rstrip(".")


def _is_ip(host: str) -> bool:
    if host.startswith("["):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class AppRoute:
    """One app's route as this worker holds it; ``upstream`` pools its units' connections
    and lives as long as the app is routed (a new route for the app updates it)."""

    app: str
    hosts: tuple[str, ...]
    backends: tuple[str, ...]
    asleep: bool
    seq: int
    upstream: Upstream = field(repr=False)


@dataclass(frozen=True)
class Snapshot:
    """What the table held when a load was asked for."""

    held: Mapping[str, int]  # app -> seq
    tombstones: Mapping[str, int]  # app -> seq of its removal


class InvalidRoute(ValueError):
    pass


def parse_route(raw: Any) -> tuple[str, tuple[str, ...], tuple[str, ...], bool, int]:
    """(app, hosts, backends, asleep, seq) of a route as the provisioner writes it."""
    if not isinstance(raw, dict):
        raise InvalidRoute(f"a route must be an object, not {type(raw).__name__}")
    app, seq = raw.get("app"), raw.get("seq")
    hosts, backends = raw.get("hosts"), raw.get("backends")
    if not isinstance(app, str) or not app:
        raise InvalidRoute("a route needs its app")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise InvalidRoute(f"route of {app}: seq must be an integer")
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise InvalidRoute(f"route of {app}: hosts must be a list of names")
    if not isinstance(backends, list) or not all(isinstance(b, str) and ":" in b for b in backends):
        raise InvalidRoute(f"route of {app}: backends must be a list of host:port")
    names = tuple(dict.fromkeys(normalize_host(h) for h in hosts if h.strip()))
    return app, names, tuple(backends), bool(raw.get("asleep")), seq


def backend_urls(backends: Iterable[str]) -> list[str]:
    return [f"http://{b}" for b in backends]


class AppTable:
    def __init__(
        self, domain: str, new_backends: NewBackends, *, reserved: Iterable[str] = ()
    ) -> None:
        self.domain = domain.strip(".").lower()
        self._suffix = "." + self.domain
        self._new_backends = new_backends
        self._reserved = frozenset(normalize_host(h) for h in reserved if h)
        self._routes: dict[str, AppRoute] = {}
        self._hosts: dict[str, AppRoute] = {}
        self._claims: dict[str, set[str]] = {}  # host -> apps whose route names it
        self._tombstones: dict[str, int] = {}
        self._lock = threading.Lock()  # writers only; readers see whole dict entries
        self.loaded = threading.Event()  # set by the first load that succeeded

    # -- reading (each request) -----------------------------------------------------------

    def lookup(self, host: str) -> AppRoute | None:
        """The route of a normalised host name, or None."""
        return self._hosts.get(host)

    def in_domain(self, host: str) -> bool:
        """Whether ``host`` is an app address (``<something>.<domain>``); the API's own
        names are not, even under the apps domain."""
        return (
            bool(self.domain)
            and host.endswith(self._suffix)
            and len(host) > len(self._suffix)
            and host not in self._reserved
        )

    def route_of(self, app: str) -> AppRoute | None:
        return self._routes.get(app)

    @property
    def apps(self) -> list[str]:
        return sorted(self._routes)

    # -- changes (messages and loads) --------------------------------------------------------

    def apply(self, app: str, seq: int, route: Any) -> bool:
        """A ``provisioner.routes.changed`` message: the app's new route, or None
        (removed). False when it is older than what the table holds."""
        parsed = None if route is None else parse_route(route)
        if parsed is not None and parsed[0] != app:
            raise InvalidRoute(f"a message about {app} carries the route of {parsed[0]}")
        with self._lock:
            if parsed is None:
                return self._remove(app, seq)
            return self._put(*parsed)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot({a: r.seq for a, r in self._routes.items()}, dict(self._tombstones))

    def load(self, before: Snapshot, routes: Iterable[Any]) -> None:
        """The whole table as ``GET /internal/routes`` listed it; ``before`` is the
        snapshot taken before the request was sent."""
        parsed = [parse_route(r) for r in routes]
        listed = {p[0] for p in parsed}
        with self._lock:
            for app, hosts, backends, asleep, seq in parsed:
                self._put(app, hosts, backends, asleep, seq)
            for app, seq in before.held.items():
                current = self._routes.get(app)
                if app not in listed and current is not None and current.seq == seq:
                    self._drop(app, seq)
            for app, seq in before.tombstones.items():
                if self._tombstones.get(app) == seq:
                    del self._tombstones[app]
        self.loaded.set()

    def close(self) -> None:
        with self._lock:
            for route in self._routes.values():
                route.upstream.update([])
            self._routes.clear()
            self._hosts.clear()
            self._claims.clear()

    # -- internals (under the lock) --------------------------------------------------------

    def _put(
        self, app: str, hosts: tuple[str, ...], backends: tuple[str, ...], asleep: bool, seq: int
    ) -> bool:
        old = self._routes.get(app)
        if (old is not None and seq <= old.seq) or seq <= self._tombstones.get(app, -1):
            return False
        self._tombstones.pop(app, None)
        hosts = tuple(h for h in hosts if h not in self._reserved and not _is_ip(h))
        if old is None:
            upstream = self._new_backends(app)
        else:
            upstream = old.upstream
        upstream.update([(url, UP) for url in backend_urls(backends)])
        route = AppRoute(app, hosts, backends, asleep, seq, upstream)
        self._routes[app] = route
        gone = set(old.hosts) - set(hosts) if old is not None else set()
        for host in gone:
            self._unclaim(host, app)
        for host in hosts:
            self._claims.setdefault(host, set()).add(app)
            self._elect(host)
        return True

    def _remove(self, app: str, seq: int) -> bool:
        old = self._routes.get(app)
        if (old is not None and seq <= old.seq) or seq <= self._tombstones.get(app, -1):
            return False
        self._drop(app, seq)
        return True

    def _drop(self, app: str, seq: int) -> None:
        self._tombstones[app] = seq
        old = self._routes.pop(app, None)
        if old is None:
            return
        for host in old.hosts:
            self._unclaim(host, app)
        old.upstream.update([])  # idle connections close, busy ones when they come back

    def _unclaim(self, host: str, app: str) -> None:
        claims = self._claims.get(host)
        if claims is not None:
            claims.discard(app)
            if not claims:
                del self._claims[host]
        self._elect(host)

    def _elect(self, host: str) -> None:
        claims = self._claims.get(host)
        if not claims:
            self._hosts.pop(host, None)
            return
        self._hosts[host] = max((self._routes[a] for a in claims), key=lambda r: r.seq)
