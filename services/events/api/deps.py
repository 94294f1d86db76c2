"""The composition root's collaborators, as seen from a view."""

from __future__ import annotations

from dataclasses import dataclass

from services.events.operations.recording import Recorder
from services.events.operations.webhooks import OnlyTeam
from services.events.storage.ports import BlockStore, DeliveryStore, EventStore, WebhookStore
from shared.http import extension


@dataclass(frozen=True)
class Deps:
    events: EventStore
    blocks: BlockStore
    webhooks: WebhookStore
    deliveries: DeliveryStore
    recorder: Recorder
    only_team: OnlyTeam


def deps() -> Deps:
    return extension("deps")  # type: ignore[no-any-return]
