"""Asks the apps and catalog contexts whether a team is still referenced.

``GET /internal/teams/{team}/usage`` answers ``{"apps": [...]}`` (apps) or
``{"service_instances": [...]}`` (catalog). A context not configured, or answering
404/501 (not built yet), holds nothing; any other failure refuses the change
(docs/contracts.md "Team usage").
"""

from __future__ import annotations

from typing import Any

from shared.client import InternalClient

USAGE = "/internal/teams/{}/usage"


class HttpTeamUsage:
    def __init__(self, apps: InternalClient, catalog: InternalClient) -> None:
        self._apps, self._catalog = apps, catalog

    @staticmethod
    def _ask(client: InternalClient, team: str, key: str) -> list[str]:
        if not client.configured:
            return []
        answer = client.get(USAGE, team, absent={}) or {}
        return [str(n) for n in answer.get(key) or []]

    def apps(self, team: str) -> list[str]:
        return self._ask(self._apps, team, "apps")

    def service_instances(self, team: str) -> list[str]:
        return self._ask(self._catalog, team, "service_instances")

    def owned_apps(self, team: str) -> list[dict[str, Any]]:
        if not self._apps.configured:
            return []
        answer = self._apps.get("/internal/teams/{}/apps", team, absent=[]) or []
        return [a for a in answer if isinstance(a, dict)]


class NoTeamUsage:
    """For tests and a lone auth service: nothing references any team."""

    def __init__(
        self,
        apps: dict[str, list[str]] | None = None,
        instances: dict[str, list[str]] | None = None,
    ) -> None:
        self._apps = apps or {}
        self._instances = instances or {}

    def apps(self, team: str) -> list[str]:
        return self._apps.get(team, [])

    def service_instances(self, team: str) -> list[str]:
        return self._instances.get(team, [])

    def owned_apps(self, team: str) -> list[dict[str, Any]]:
        return [{"name": n, "teamowner": team} for n in self._apps.get(team, [])]
