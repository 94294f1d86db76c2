"""Asks the apps and catalog contexts whether a team is still referenced.

``GET {base}/internal/teams/{team}/usage`` answers ``{"apps": [...]}`` (apps) or
``{"service_instances": [...]}`` (catalog). A context not configured, or answering
404/501 (not built yet), holds nothing; any other failure refuses the removal.
"""

from __future__ import annotations

import requests

from shared.errors import ServerError
from shared.identity import IDENTITY_HEADER, internal_identity, sign


class HttpTeamUsage:
    def __init__(
        self,
        apps_urls: tuple[str, ...],
        catalog_urls: tuple[str, ...],
        secret: bytes,
        timeout: float = 10,
    ) -> None:
        self.apps_urls, self.catalog_urls = apps_urls, catalog_urls
        self.secret, self.timeout = secret, timeout

    def _ask(self, urls: tuple[str, ...], team: str, key: str) -> list[str]:
        if not urls:
            return []
        header = sign(internal_identity("auth"), self.secret)
        try:
            resp = requests.get(
                f"{urls[0]}/internal/teams/{team}/usage",
                headers={IDENTITY_HEADER: header},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise ServerError(f"cannot check team usage: {exc}") from exc
        if resp.status_code in (404, 501):
            return []
        if resp.status_code != 200:
            raise ServerError(f"cannot check team usage: {resp.status_code} {resp.text.strip()}")
        return [str(n) for n in resp.json().get(key) or []]

    def apps(self, team: str) -> list[str]:
        return self._ask(self.apps_urls, team, "apps")

    def service_instances(self, team: str) -> list[str]:
        return self._ask(self.catalog_urls, team, "service_instances")


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
