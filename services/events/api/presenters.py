"""The JSON shapes of the events routes built in this module; the Event itself is
``domain/render.py``'s (webhooks send the same JSON)."""

from __future__ import annotations

from typing import Any

from services.events.domain.webhooks import Webhook
from shared.events import Block
from shared.golang.times import rfc3339nano


def block_json(block: Block) -> dict[str, Any]:
    """tsuru's Block has no JSON tags: Go field names."""
    return {
        "ID": str(block.id),
        "StartTime": rfc3339nano(block.start_time),
        "EndTime": rfc3339nano(block.end_time),
        "KindName": block.kind_name,
        "OwnerName": block.owner_name,
        "Target": {"Type": block.target.type, "Value": block.target.value},
        # encoding/json writes map keys sorted
        "Conditions": (
            {k: block.conditions[k] for k in sorted(block.conditions)}
            if block.conditions is not None
            else None
        ),
        "Reason": block.reason,
        "Active": block.active,
    }


def webhook_json(hook: Webhook) -> dict[str, Any]:
    """The API shape (§3.1): every key, empty lists as [], never the secret."""
    f = hook.event_filter
    return {
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
        # encoding/json writes map keys sorted
        "headers": {k: list(hook.headers[k]) for k in sorted(hook.headers)},
        "method": hook.method,
        "body": hook.body,
        "insecure": hook.insecure,
    }
