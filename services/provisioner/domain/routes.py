"""The route table: per app its hosts and the addresses of its routable units
(docs/runtime.md "App traffic"). Pure: computed from the desired state and the unit
records; storage keeps the last one with its ``seq``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.provisioner.backends.base import STARTED
from services.provisioner.domain.runtime import ASLEEP, AppRuntime
from services.provisioner.domain.units import Unit


@dataclass(frozen=True)
class Route:
    app: str
    hosts: tuple[str, ...]
    backends: tuple[str, ...]
    asleep: bool = False
    seq: int = 0

    def same_as(self, other: Route | None) -> bool:
        """Equal but for ``seq`` (a change worth publishing)."""
        return (
            other is not None
            and self.hosts == other.hosts
            and self.backends == other.backends
            and self.asleep == other.asleep
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "hosts": list(self.hosts),
            "backends": list(self.backends),
            "asleep": self.asleep,
            "seq": self.seq,
        }


def app_host(name: str, domain: str) -> str:
    return f"{name}.{domain}".lower()


def routable_units(runtime: AppRuntime, units: Iterable[Unit]) -> list[Unit]:
    """Units that get traffic: the web process of a routable version, started, with an
    address, not draining."""
    webs = {v: runtime.releases[v].web for v in runtime.routable if v in runtime.releases}
    chosen = [
        u
        for u in units
        if u.version in webs
        and u.process == webs[u.version]
        and u.status == STARTED
        and u.address
        and not u.draining
    ]
    chosen.sort(key=lambda u: u.id)
    return chosen


def route_for(runtime: AppRuntime, units: Iterable[Unit], domain: str) -> Route:
    hosts = [app_host(runtime.address, domain)]
    hosts += [c for c in runtime.spec.cnames if c not in hosts]
    webs = {v: r.web for v, r in runtime.releases.items() if v in runtime.routable}
    web_groups = [g for g in runtime.groups if g.version in webs and g.process == webs[g.version]]
    asleep = bool(web_groups) and all(g.status == ASLEEP for g in web_groups)
    return Route(
        app=runtime.app,
        hosts=tuple(hosts),
        backends=tuple(u.address for u in routable_units(runtime, units)),
        asleep=asleep,
    )
