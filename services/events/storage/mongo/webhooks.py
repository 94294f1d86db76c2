"""Webhooks (collection ``webhooks``, ``_id`` = name)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.events.domain.errors import WebhookExists
from services.events.domain.webhooks import Webhook, WebhookFilter
from shared.mongo import Db, Doc, Index, asc

WEBHOOKS = "webhooks"
INDEXES = [Index(WEBHOOKS, asc("team_owner"))]


def _doc(hook: Webhook) -> Doc:
    f = hook.event_filter
    return {
        "_id": hook.name,
        "name": hook.name,
        "description": hook.description,
        "team_owner": hook.team_owner,
        "event_filter": {
            "target_types": list(f.target_types),
            "target_values": list(f.target_values),
            "kind_types": list(f.kind_types),
            "kind_names": list(f.kind_names),
            "error_only": f.error_only,
            "success_only": f.success_only,
        },
        "url": hook.url,
        "proxy_url": hook.proxy_url,
        "headers": {k: list(v) for k, v in hook.headers.items()},
        "method": hook.method,
        "body": hook.body,
        "insecure": hook.insecure,
        "secret": hook.secret,
        "created": hook.created,
    }


def _hook(doc: Mapping[str, Any]) -> Webhook:
    raw = doc.get("event_filter") or {}
    return Webhook(
        name=doc.get("name") or doc["_id"],
        url=doc.get("url", ""),
        team_owner=doc.get("team_owner", ""),
        description=doc.get("description", ""),
        event_filter=WebhookFilter(
            target_types=tuple(raw.get("target_types") or ()),
            target_values=tuple(raw.get("target_values") or ()),
            kind_types=tuple(raw.get("kind_types") or ()),
            kind_names=tuple(raw.get("kind_names") or ()),
            error_only=bool(raw.get("error_only")),
            success_only=bool(raw.get("success_only")),
        ),
        proxy_url=doc.get("proxy_url", ""),
        headers={k: tuple(v) for k, v in (doc.get("headers") or {}).items()},
        method=doc.get("method", ""),
        body=doc.get("body", ""),
        insecure=bool(doc.get("insecure")),
        secret=doc.get("secret", ""),
        created=doc.get("created"),
    )


class MongoWebhookStore:
    def __init__(self, db: Db) -> None:
        self.col = db[WEBHOOKS]

    def create(self, hook: Webhook) -> None:
        try:
            self.col.insert_one(_doc(hook))
        except DuplicateKeyError as exc:
            raise WebhookExists() from exc

    def get(self, name: str) -> Webhook | None:
        doc = self.col.find_one({"_id": name})
        return _hook(doc) if doc else None

    def list(self, teams: Collection[str] | None = None) -> list[Webhook]:
        query = {} if teams is None else {"team_owner": {"$in": list(teams)}}
        return [_hook(doc) for doc in self.col.find(query).sort([("_id", 1)])]

    def replace(self, hook: Webhook) -> bool:
        return self.col.replace_one({"_id": hook.name}, _doc(hook)).matched_count == 1

    def delete(self, name: str) -> bool:
        return self.col.delete_one({"_id": name}).deleted_count == 1
