"""Asking the auth service how many teams exist (webhook team-owner auto-choice)."""

from __future__ import annotations

import requests

from shared.errors import ServerError
from shared.identity import IDENTITY_HEADER, internal_identity, sign
from shared.settings import Settings


class TeamDirectory:
    """``only_team()``: the single team of the system, or None when 0 or several."""

    def __init__(self, settings: Settings, *, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def only_team(self) -> str | None:
        urls = self.settings.service_urls.get("auth", ())
        if not urls:
            raise ServerError("cannot list teams: no auth service configured")
        header = sign(internal_identity("events"), self.settings.identity_secret)
        try:
            resp = requests.get(
                f"{urls[0]}/internal/teams", headers={IDENTITY_HEADER: header}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ServerError(f"cannot list teams: {exc}") from exc
        if resp.status_code != 200:
            raise ServerError(f"cannot list teams: auth answered {resp.status_code}")
        names = resp.json()
        return str(names[0]) if isinstance(names, list) and len(names) == 1 else None
