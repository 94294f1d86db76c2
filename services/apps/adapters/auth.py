"""The auth context as the apps context sees it (docs/runtime.md): app tokens, the
user/team app quota, team existence."""

from __future__ import annotations

import threading

from services.apps.domain.errors import QuotaExceeded
from shared.client import InternalClient, RemoteError


class HttpAuth:
    def __init__(self, client: InternalClient) -> None:
        self._client = client
        # An app's token is stable (derived by the auth service), so a process keeps it.
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def app_token(self, app: str) -> str:
        token = self._tokens.get(app)
        if token is None:
            answer = self._client.post("/internal/app-tokens", json={"app": app})
            token = str(answer["token"])
            with self._lock:
                if len(self._tokens) > 10_000:
                    self._tokens.clear()
                self._tokens[app] = token
        return token

    def revoke_app_token(self, app: str) -> None:
        with self._lock:
            self._tokens.pop(app, None)
        self._client.delete("/internal/app-tokens/{}", app, absent=None)

    def reserve_app(self, user: str, team: str) -> None:
        try:
            self._client.post("/internal/quota/apps/reserve", json={"user": user, "team": team})
        except RemoteError as exc:
            if exc.status == 409:  # docs/runtime.md: the quota refusal travels as 409
                raise QuotaExceeded() from None
            raise

    def release_app(self, user: str, team: str) -> None:
        self._client.post("/internal/quota/apps/release", json={"user": user, "team": team})

    def team_exists(self, team: str) -> bool:
        return team in self.team_names()

    def team_names(self) -> list[str]:
        return [str(t) for t in self._client.get("/internal/teams") or []]
