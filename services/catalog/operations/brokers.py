"""Service brokers (catalog.md §4, §d): global-only permissions, no validation of
name or URL beyond what a call needs (tsuru accepts any)."""

from __future__ import annotations

from typing import Any

from services.catalog.domain import errors
from services.catalog.domain.models import Broker
from services.catalog.domain.rules import broker_url_problem
from services.catalog.operations.deps import Deps
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize, mutation
from shared.permissions import ensure


def list_brokers(deps: Deps, identity: Identity) -> list[Broker]:
    ensure(identity, "service-broker.read")
    return deps.stores.brokers.all()


def _check_url(broker: Broker) -> None:
    problem = broker_url_problem(broker.url)
    if problem:
        raise errors.InvalidBrokerUrl(broker.url, problem)


def add_broker(deps: Deps, identity: Identity, broker: Broker, fields: Any) -> None:
    with mutation(
        deps,
        identity,
        "service-broker.create",
        target=Target("service-broker", broker.name),
        custom_data=fields,
    ):
        _check_url(broker)
        deps.stores.brokers.add(broker)


def update_broker(deps: Deps, identity: Identity, name: str, broker: Broker, fields: Any) -> None:
    permit = authorize(identity, "service-broker.update")
    # tsuru's event names the broker of the body, which the update may rename.
    with permit.record(
        deps.recorder, target=Target("service-broker", broker.name), custom_data=fields
    ):
        stored = deps.stores.brokers.get(name)
        if stored is None:
            raise errors.BrokerNotFound()
        _check_url(broker)
        seconds = broker.config.cache_expiration_seconds
        if seconds == 0:
            broker.config.cache_expiration_seconds = stored.config.cache_expiration_seconds
        elif seconds < 0:
            broker.config.cache_expiration_seconds = 0
        if not deps.stores.brokers.replace(name, broker):
            raise errors.BrokerNotFound()


def delete_broker(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    with mutation(
        deps,
        identity,
        "service-broker.delete",
        target=Target("service-broker", name),
        custom_data=fields,
    ):
        if not deps.stores.brokers.delete(name):
            raise errors.BrokerNotFound()
