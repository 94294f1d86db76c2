"""The catalog context as the apps context sees it: an app's bound instances."""

from __future__ import annotations

from shared.client import InternalClient


class HttpCatalog:
    def __init__(self, client: InternalClient) -> None:
        self._client = client

    def binds(self, app: str) -> list[dict[str, str]]:
        # 404/501: a catalog not built yet binds nothing.
        answer = self._client.get("/internal/apps/{}/binds", app, absent=[]) or []
        return [
            {
                "service": str(b.get("service", "")),
                "instance": str(b.get("instance", "")),
                "plan": str(b.get("plan", "")),
            }
            for b in answer
            if isinstance(b, dict)
        ]
