"""Webhooks: the model, validation and which finished events they receive (§3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.events.domain.errors import InvalidWebhook
from services.events.domain.urls import url_error

NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
INVALID_NAME = (
    "Invalid webhook name, webhook name should have at most 40 characters, containing only "
    "lower case letters, numbers or dashes, starting with a letter."
)


@dataclass(frozen=True)
class WebhookFilter:
    target_types: tuple[str, ...] = ()
    target_values: tuple[str, ...] = ()
    kind_types: tuple[str, ...] = ()
    kind_names: tuple[str, ...] = ()
    error_only: bool = False
    success_only: bool = False


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str
    team_owner: str = ""
    description: str = ""
    event_filter: WebhookFilter = field(default_factory=WebhookFilter)
    proxy_url: str = ""
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    method: str = ""
    body: str = ""
    insecure: bool = False
    # HMAC key of X-Tsubame-Signature; shown once, on create.
    secret: str = ""
    # When it was created (None: before Tsubame kept it). Events that ended earlier
    # are not its to deliver: the sweep leaves them aside (fan-outs with no webhook
    # leave no dispatch mark, so the sweep is what would otherwise send them).
    created: datetime | None = None


def validate_name(name: str) -> None:
    if not name:
        raise InvalidWebhook("webhook name must not be empty")
    if not NAME.fullmatch(name):
        raise InvalidWebhook(INVALID_NAME)


def validate_urls(hook: Webhook) -> None:
    if not hook.url:
        raise InvalidWebhook("webhook url must not be empty")
    problem = url_error(hook.url)
    if problem:
        raise InvalidWebhook(f"webhook url is not valid: {problem}")
    if hook.proxy_url:
        problem = url_error(hook.proxy_url)
        if problem:
            raise InvalidWebhook(f"webhook proxy url is not valid: {problem}")


# -- matching (§3.3) -----------------------------------------------------------


def kind_name_prefixes(name: str) -> set[str]:
    """``app.update.env.set`` -> itself, ``app``, ``app.update``, ``app.update.env``."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


@dataclass(frozen=True)
class EventHead:
    """What webhook matching reads of a finished event; the sweep loads only this
    (a whole record per event, rendered, cost it more than the database read)."""

    id: str  # hex UniqueID
    target: tuple[str, str]  # (type, value)
    extra_targets: tuple[tuple[str, str], ...] = ()
    kind: tuple[str, str] = ("", "")  # (type, name)
    error: str = ""
    contexts: tuple[tuple[str, str], ...] = ()  # Allowed contexts (type, value)
    end_time: datetime | None = None

    def view(self) -> dict[str, Any]:
        """The part of the Event JSON (Go names) that ``matches`` and ``team_may_read`` read."""
        return {
            "Target": {"Type": self.target[0], "Value": self.target[1]},
            "ExtraTargets": [{"Target": {"Type": t, "Value": v}} for t, v in self.extra_targets],
            "Kind": {"Type": self.kind[0], "Name": self.kind[1]},
            "Error": self.error,
            "Allowed": {"Contexts": [{"CtxType": t, "Value": v} for t, v in self.contexts]},
        }


def matches(hook: Webhook, event: Mapping[str, Any]) -> bool:
    """``event`` is the rendered Event JSON (Go names)."""
    f = hook.event_filter
    targets = [event.get("Target") or {}] + [
        e.get("Target") or {} for e in event.get("ExtraTargets") or []
    ]
    types = {t.get("Type", "") for t in targets}
    values = {t.get("Value", "") for t in targets}
    kind = event.get("Kind") or {}
    if f.target_types and not types.intersection(f.target_types):
        return False
    if f.target_values and not values.intersection(f.target_values):
        return False
    if f.kind_types and kind.get("Type") not in f.kind_types:
        return False
    if f.kind_names and not kind_name_prefixes(kind.get("Name", "")).intersection(f.kind_names):
        return False
    failed = bool(event.get("Error"))
    if failed and f.success_only:
        return False
    return not (not failed and f.error_only)


def team_may_read(hook: Webhook, event: Mapping[str, Any]) -> bool:
    """Deliver only what the owner team may see (deviation: tsuru checks nothing).

    The event's Allowed contexts must name the team. Events visible only globally
    (no contexts) go to webhooks without a team owner only (set by global holders).
    """
    if not hook.team_owner:
        return True
    allowed = event.get("Allowed") or {}
    return any(
        c.get("CtxType") == "team" and c.get("Value") == hook.team_owner
        for c in allowed.get("Contexts") or []
    )
