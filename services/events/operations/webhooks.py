"""Webhook management (§3.2) with Tsubame's signing secret."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from services.events.domain.errors import WebhookNotFound
from services.events.domain.webhooks import Webhook, validate_name, validate_urls
from services.events.operations.recording import Recorder
from services.events.storage.ports import WebhookStore
from shared.events import Allowed, Target
from shared.identity import Identity
from shared.permissions import contexts_for, ensure, team_for

OnlyTeam = Callable[[], str | None]


def _team_ctx(team: str) -> list[tuple[str, str]]:
    return [("team", team)] if team else []


def _allowed(team: str) -> Allowed:
    return Allowed("webhook.read.events", tuple(_team_ctx(team)))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def list_webhooks(store: WebhookStore, identity: Identity) -> list[dict[str, Any]]:
    # Deviation (docs/compatibility.md): only teams where the caller may read
    # webhooks; tsuru 1.11 lists everything to callers without team grants.
    held = contexts_for(identity.grants, "webhook.read")
    if any(t == "global" for t, _ in held):
        hooks = store.list()
    else:
        hooks = store.list(sorted({v for t, v in held if t == "team"}))
    return [h.to_json() for h in hooks]


def get_webhook(store: WebhookStore, identity: Identity, name: str) -> dict[str, Any]:
    hook = store.get(name)
    if hook is None:
        raise WebhookNotFound()
    ensure(identity.grants, "webhook.read", _team_ctx(hook.team_owner))
    return hook.to_json()


def create_webhook(
    store: WebhookStore,
    recorder: Recorder,
    identity: Identity,
    hook: Webhook,
    custom_data: Any,
    only_team: OnlyTeam,
) -> str:
    """Store the webhook; returns its signing secret (shown to the caller once)."""
    team = hook.team_owner or team_for(identity.grants, "webhook.create", only_team)
    ensure(identity.grants, "webhook.create", _team_ctx(team))
    hook = replace(hook, team_owner=team, secret=hook.secret or new_secret())
    # tsuru starts the event before validating: failed creates leave failed events.
    with recorder.record(
        target=Target("webhook", hook.name),
        kind="webhook.create",
        owner=identity,
        allowed=_allowed(team),
        custom_data=custom_data,
    ):
        validate_name(hook.name)
        validate_urls(hook)
        store.create(hook)
    return hook.secret


def update_webhook(
    store: WebhookStore,
    recorder: Recorder,
    identity: Identity,
    hook: Webhook,
    custom_data: Any,
) -> None:
    # tsuru checks the team named in the body, not the stored one: a caller may
    # move a webhook to a team they manage.
    ensure(identity.grants, "webhook.update", _team_ctx(hook.team_owner))
    with recorder.record(
        target=Target("webhook", hook.name),
        kind="webhook.update",
        owner=identity,
        allowed=_allowed(hook.team_owner),
        custom_data=custom_data,
    ):
        validate_urls(hook)
        current = store.get(hook.name)
        if current is None:
            raise WebhookNotFound()
        # Deviation (docs/compatibility.md): the stored owner's team too, or a
        # manager of another team could take this webhook over and read its headers.
        ensure(identity.grants, "webhook.update", _team_ctx(current.team_owner))
        if not store.replace(replace(hook, secret=hook.secret or current.secret)):
            raise WebhookNotFound()


def delete_webhook(
    store: WebhookStore, recorder: Recorder, identity: Identity, name: str, custom_data: Any
) -> None:
    hook = store.get(name)
    if hook is None:
        raise WebhookNotFound()
    ensure(identity.grants, "webhook.delete", _team_ctx(hook.team_owner))
    with recorder.record(
        target=Target("webhook", name),
        kind="webhook.delete",
        owner=identity,
        allowed=_allowed(hook.team_owner),
        custom_data=custom_data,
    ):
        if not store.delete(name):
            raise WebhookNotFound()
