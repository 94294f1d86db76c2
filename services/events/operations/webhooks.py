"""Webhook management (§3.2) with Tsubame's signing secret."""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from typing import Any

from services.events.domain.errors import WebhookNotFound
from services.events.domain.webhooks import Webhook, validate_name, validate_urls
from services.events.operations.deps import Deps
from shared.events import Target
from shared.events.model import now
from shared.identity import Identity
from shared.mutation import authorize, mutation
from shared.permissions import Context, ensure, scope, team_for


def _team_ctx(team: str) -> list[Context]:
    return [("team", team)] if team else []


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def list_webhooks(deps: Deps, identity: Identity) -> list[Webhook]:
    # Deviation (docs/compatibility.md): only teams where the caller may read
    # webhooks; tsuru 1.11 lists everything to callers without team grants.
    held = scope(identity, "webhook.read")
    if any(t == "global" for t, _ in held):
        return deps.stores.webhooks.list()
    return deps.stores.webhooks.list(sorted({v for t, v in held if t == "team"}))


def get_webhook(deps: Deps, identity: Identity, name: str) -> Webhook:
    hook = deps.stores.webhooks.get(name)
    if hook is None:
        raise WebhookNotFound()
    ensure(identity, "webhook.read", _team_ctx(hook.team_owner))
    return hook


def create_webhook(deps: Deps, identity: Identity, hook: Webhook, custom_data: Any) -> str:
    """Store the webhook; returns its signing secret (shown to the caller once)."""
    team = hook.team_owner or team_for(identity, "webhook.create", deps.teams.only_team)
    hook = replace(hook, team_owner=team, secret=hook.secret or new_secret(), created=now())
    # tsuru starts the event before validating: failed creates leave failed events.
    with mutation(
        deps,
        identity,
        "webhook.create",
        target=Target("webhook", hook.name),
        contexts=_team_ctx(team),
        custom_data=custom_data,
    ):
        validate_name(hook.name)
        validate_urls(hook)
        deps.stores.webhooks.create(hook)
        _settle(deps)  # inside: the webhook's own creation event is matched against it
    return hook.secret


def update_webhook(deps: Deps, identity: Identity, hook: Webhook, custom_data: Any) -> None:
    # tsuru checks the team named in the body, not the stored one: a caller may
    # move a webhook to a team they manage.
    with mutation(
        deps,
        identity,
        "webhook.update",
        target=Target("webhook", hook.name),
        contexts=_team_ctx(hook.team_owner),
        custom_data=custom_data,
    ):
        validate_urls(hook)
        current = deps.stores.webhooks.get(hook.name)
        if current is None:
            raise WebhookNotFound()
        # Deviation (docs/compatibility.md): the stored owner's team too, or a
        # manager of another team could take this webhook over and read its headers.
        ensure(identity, "webhook.update", _team_ctx(current.team_owner))
        kept = replace(hook, secret=hook.secret or current.secret, created=current.created)
        if not deps.stores.webhooks.replace(kept):
            raise WebhookNotFound()
        _settle(deps)


def delete_webhook(deps: Deps, identity: Identity, name: str, custom_data: Any) -> None:
    hook = deps.stores.webhooks.get(name)
    if hook is None:
        raise WebhookNotFound()
    permit = authorize(identity, "webhook.delete", _team_ctx(hook.team_owner))
    with permit.record(deps.recorder, target=Target("webhook", name), custom_data=custom_data):
        if not deps.stores.webhooks.delete(name):
            raise WebhookNotFound()
        _settle(deps)


def _settle(deps: Deps) -> None:
    """Wait until every process's copy of the webhook list is older than the change
    (storage/recent.py), before the change's own event finishes: that event, and any
    finished after the answer, is matched against the changed list."""
    time.sleep(deps.config.webhooks_settle)
