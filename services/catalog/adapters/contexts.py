"""The other contexts as the catalog sees them, over their internal routes
(docs/runtime.md "Synchronous internal calls", "Service bindings")."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from services.catalog.domain.models import AppUnit, AppView, Cluster, PoolInfo
from shared.client import InternalClient, RemoteError
from shared.errors import ServerError


def app_view(raw: dict[str, Any]) -> AppView:
    return AppView(
        name=str(raw.get("name", "")),
        teams=tuple(str(t) for t in raw.get("teams") or []),
        team_owner=str(raw.get("team_owner", "")),
        pool=str(raw.get("pool", "")),
        addresses=tuple(str(a) for a in raw.get("addresses") or []),
        internal_addresses=tuple(str(a) for a in raw.get("internal_addresses") or []),
        uuid=str(raw.get("uuid") or ""),
        units=tuple(
            AppUnit(str(u.get("id", "")), str(u.get("ip", "")))
            for u in raw.get("units") or []
            if isinstance(u, dict)
        ),
    )


class StreamError(ServerError):
    """An ``Error`` line of a relayed stream: the operation failed after it began."""


def messages(lines: Iterator[bytes]) -> Iterator[str]:
    for raw in lines:
        if not raw.strip():
            continue  # keep-alive
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        if obj.get("Error"):
            raise StreamError(str(obj["Error"]))
        if obj.get("Message"):
            yield str(obj["Message"])


class HttpApps:
    def __init__(self, client: InternalClient) -> None:
        self._client = client

    def get(self, name: str) -> AppView | None:
        raw = self._client.get("/internal/apps/{}", name, absent=None)
        return app_view(raw) if isinstance(raw, dict) else None

    def set_envs(
        self, app: str, service: str, instance: str, envs: Mapping[str, str], restart: bool
    ) -> Iterator[str]:
        body = {"service": service, "instance": instance, "envs": dict(envs), "restart": restart}
        yield from messages(
            self._client.stream("POST", "/internal/apps/{}/service-envs", app, json=body)
        )

    def unset_envs(self, app: str, service: str, instance: str, restart: bool) -> Iterator[str]:
        params = {"service": service, "instance": instance, "restart": str(restart).lower()}
        try:
            yield from messages(
                self._client.stream("DELETE", "/internal/apps/{}/service-envs", app, params=params)
            )
        except RemoteError as exc:
            if exc.status != 404:
                raise
            # The app is gone, and its env vars with it: nothing left to remove.


class HttpPools:
    def __init__(self, client: InternalClient) -> None:
        self._client = client

    def get(self, name: str) -> PoolInfo | None:
        raw = self._client.get("/internal/pools/{}", name, absent=None)
        if not isinstance(raw, dict):
            return None
        c = raw.get("cluster")
        cluster = None
        if isinstance(c, dict):
            addresses = tuple(str(a) for a in c.get("addresses") or [])
            cluster = Cluster(str(c.get("name", "")), str(c.get("provisioner", "")), addresses)
        return PoolInfo(str(raw.get("name", name)), str(raw.get("provisioner", "")), cluster)

    def allowed_services(self, pool: str, names: list[str]) -> list[str] | None:
        raw = self._client.post(
            "/internal/pools/{}/services", pool, json={"services": names}, absent=None
        )
        if not isinstance(raw, dict):
            return None
        return [str(n) for n in raw.get("allowed") or []]

    def visible(self, teams: list[str] | None) -> list[str]:
        raw = self._client.post("/internal/pools/visible", json={"teams": teams}, absent={})
        return [str(n) for n in (raw or {}).get("pools") or []]


class HttpTeams:
    def __init__(self, client: InternalClient) -> None:
        self._client = client

    def names(self) -> list[str]:
        return [str(t) for t in self._client.get("/internal/teams") or []]
