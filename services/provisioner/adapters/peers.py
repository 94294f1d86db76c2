"""The other contexts as the provisioner sees them (docs/runtime.md): team and service
names (auth, catalog), the apps of a pool or platform, an app's description and its
restart (apps)."""

from __future__ import annotations

import json
from typing import Any

from services.provisioner.operations.deps import AppRef, Writer
from shared.client import InternalClient
from shared.errors import ServerError


class HttpDirectory:
    def __init__(self, auth: InternalClient, catalog: InternalClient) -> None:
        self.auth = auth
        self.catalog = catalog

    def team_names(self) -> list[str]:
        names = self.auth.get("/internal/teams", absent=[])
        return [str(n) for n in names] if isinstance(names, list) else []

    def service_names(self) -> list[str]:
        # 404/501: a catalog without services yet has none to filter.
        answer = self.catalog.get("/internal/services", absent={}) or {}
        names = answer.get("services") if isinstance(answer, dict) else None
        return [str(n) for n in names] if isinstance(names, list) else []


def _names(answer: Any) -> list[str]:
    apps = answer.get("apps") if isinstance(answer, dict) else None
    return [str(a) for a in apps] if isinstance(apps, list) else []


class HttpApps:
    def __init__(self, apps: InternalClient) -> None:
        self.client = apps

    def pool_apps(self, pool: str) -> list[str]:
        # 404/501 (not built yet) count as "no app", as auth does for team usage.
        return _names(self.client.get("/internal/pools/{}/usage", pool, absent={}))

    def platform_apps(self, platform: str) -> list[str]:
        return _names(self.client.get("/internal/platforms/{}/usage", platform, absent={}))

    def app(self, name: str) -> AppRef | None:
        found = self.client.get("/internal/apps/{}", name, absent=None)
        if not isinstance(found, dict):
            return None
        return AppRef(
            name=str(found.get("name", name)),
            team_owner=str(found.get("team_owner", "")),
            teams=tuple(str(t) for t in found.get("teams") or ()),
            pool=str(found.get("pool", "")),
            platform=str(found.get("platform", "")),
        )


class RestartFailed(ServerError):
    """The restart's own error line, passed on as it came."""


class HttpRestarter:
    """``POST /internal/apps/{app}/restart`` on the apps service: apps sends the restart
    command (no event of its own) and streams its lines, which are relayed as they come."""

    def __init__(self, apps: InternalClient) -> None:
        self.client = apps

    def restart(self, app: str, out: Writer) -> None:
        for raw in self.client.stream("POST", "/internal/apps/{}/restart", app, json={}):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("Error"):
                raise RestartFailed(str(line["Error"]))
            if isinstance(line, dict) and line.get("Message"):
                out.write(str(line["Message"]))
