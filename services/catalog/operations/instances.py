"""Service instances: create, update, remove, status, info, team access (catalog.md §2)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from services.catalog.domain import errors
from services.catalog.domain.models import ServiceInstance
from services.catalog.domain.rules import (
    instance_contexts,
    process_tags,
    service_user,
    validate_instance_name,
    validate_pool_rule,
)
from services.catalog.operations import lookup
from services.catalog.operations.deps import CallContext, Deps
from shared.events import Owner, RunningEvent, Target
from shared.identity import Identity
from shared.mutation import Permit, authorize
from shared.permissions import ensure, team_for
from shared.pipeline import Action, Pipeline


@dataclass(frozen=True)
class InstanceInput:
    name: str = ""
    plan: str = ""
    team_owner: str = ""
    description: str = ""
    tags: list[str] | None = None
    pool: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


def target(service: str, name: str) -> Target:
    return Target("service-instance", f"{service}/{name}")


def call_context(evt: RunningEvent, request_id: str = "") -> CallContext:
    return CallContext(user=evt.record.owner.name, event_id=evt.unique_id, request_id=request_id)


def _team_exists(deps: Deps, team: str) -> bool:
    return team in deps.teams.names()


def create_instance(
    deps: Deps, identity: Identity, service_name: str, data: InstanceInput, fields: Any
) -> None:
    svc = lookup.service(deps, service_name)
    owner = data.team_owner or team_for(identity, "service-instance.create", lambda: None)
    permit = authorize(identity, "service-instance.create", [("team", owner)])
    if svc.is_restricted:
        ensure(identity, "service.read", service_user(svc))
    inst = ServiceInstance(
        name=data.name,
        service_name=service_name,
        plan_name=data.plan,
        teams=[owner],
        team_owner=owner,
        description=data.description,
        tags=process_tags(data.tags) or [],
        parameters=dict(data.parameters or {}),
        pool=data.pool,
    )
    with permit.record(
        deps.recorder,
        target=target(service_name, data.name),
        custom_data=fields,
        visible_in=instance_contexts(inst),
    ) as evt:
        validate_instance_name(inst.name)
        if deps.stores.instances.get(service_name, inst.name) is not None:
            raise errors.InstanceExists()
        if not _team_exists(deps, owner):
            raise errors.TeamOwnerMissing()
        validate_pool_rule(svc, inst)
        client, ctx = lookup.instance_client(deps, inst, call_context(evt))

        def notify(_: Any) -> None:
            inst.broker_data = client.create(inst, ctx)

        def destroy(_: Any) -> None:
            client.destroy(inst, ctx)

        def insert(_: Any) -> None:
            deps.stores.instances.add(inst)

        def remove(_: Any) -> None:
            deps.stores.instances.delete(service_name, inst.name)

        Pipeline(
            Action("notify-create-service-instance", notify, destroy),
            Action("create-service-instance", insert, remove),
        ).execute(None)


@dataclass(frozen=True)
class UpdateInput:
    description: str = ""
    plan: str = ""
    team_owner: str = ""
    tags: list[str] | None = None
    parameters: dict[str, Any] | None = None


def update_instance(
    deps: Deps, identity: Identity, service_name: str, name: str, data: UpdateInput, fields: Any
) -> None:
    lookup.service(deps, service_name)
    old = lookup.instance(deps, service_name, name)
    new = copy.deepcopy(old)
    wanted: list[str] = []
    # tsuru replaces the five fields: whatever is omitted counts as set to empty.
    for perm, changed in (
        ("description", old.description != data.description),
        ("teamowner", old.team_owner != data.team_owner),
        ("plan", old.plan_name != data.plan),
        ("tags", data.tags is None or old.tags != data.tags),
        ("parameters", data.parameters is None or old.parameters != data.parameters),
    ):
        if changed:
            wanted.append(f"service-instance.update.{perm}")
    if not wanted:
        raise errors.NothingToUpdate()
    contexts = instance_contexts(old)
    for perm in wanted:
        ensure(identity, perm, contexts)
    # The event is of the parent kind, whichever fields (and permissions) it touched.
    permit = Permit("service-instance.update", Owner.of(identity), tuple(contexts))
    with permit.record(deps.recorder, target=target(service_name, name), custom_data=fields) as evt:
        if not data.team_owner:
            raise errors.TeamMandatory()
        if not _team_exists(deps, data.team_owner):
            raise errors.TeamOwnerMissing()
        new = replace(
            new,
            description=data.description,
            team_owner=data.team_owner,
            plan_name=data.plan,
            tags=process_tags(data.tags) or [],
            parameters=dict(data.parameters or {}),
        )
        if new.team_owner not in new.teams:
            new.teams.append(new.team_owner)
        client, ctx = lookup.instance_client(deps, new, call_context(evt))

        def store(_: Any) -> None:
            deps.stores.instances.update(
                service_name, name, description=new.description, tags=new.tags,
                team_owner=new.team_owner, plan_name=new.plan_name, parameters=new.parameters,
            )  # fmt: skip

        def notify(_: Any) -> None:
            # The API receives the tags as sent, not trimmed (tsuru 1.11).
            data_tags = list(data.tags or [])
            broker_data = client.update(replace(new, tags=data_tags), ctx)
            if broker_data is not None:
                deps.stores.instances.set_broker_data(service_name, name, broker_data)

        def restore(_: Any) -> None:
            # tsuru's undo restores only the old teams; here every field goes back.
            deps.stores.instances.restore(old)

        Pipeline(
            Action("update-service-instance", store, restore),
            Action("notify-update-service-instance", notify),
        ).execute(None)


def remove_instance(
    deps: Deps,
    identity: Identity,
    service_name: str,
    name: str,
    *,
    unbind_all: bool,
    ignore_errors: bool,
    fields: Any,
    unbind: Callable[[RunningEvent, ServiceInstance, str], None],
    writer: Callable[[str], None],
) -> None:
    """``unbind(evt, instance, app)`` runs the whole unbind of one app (binds.py)."""
    inst = lookup.instance(deps, service_name, name)
    permit = authorize(identity, "service-instance.delete", instance_contexts(inst))
    with permit.record(deps.recorder, target=target(service_name, name), custom_data=fields) as evt:
        evt.attach(Sink(writer))
        if unbind_all:
            for app in list(inst.apps):
                evt.log(f'Unbind app "{app}" ...\n')
                unbind(evt, inst, app)
                evt.log(f'\nInstance "{name}" is not bound to the app "{app}" anymore.\n')
            inst = lookup.instance(deps, service_name, name)
        if inst.apps:
            raise errors.InstanceBound(name, inst.apps)
        client, ctx = lookup.instance_client(deps, inst, call_context(evt))
        try:
            client.destroy(inst, ctx)
        except errors.ServiceApiError as exc:
            if not ignore_errors:
                raise
            evt.log(
                f"could not delete the service instance on service api: {exc}. "
                "ignoring this error due to force removal...\n"
            )
        deps.stores.instances.delete(service_name, name)
        evt.log("service instance successfully removed\n")


class Sink:
    """Writes what the event logs to the client's stream."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    def write(self, message: str) -> None:
        self._write(message)


def status(deps: Deps, identity: Identity, service_name: str, name: str) -> str:
    inst = lookup.instance(deps, service_name, name)
    ensure(identity, "service-instance.read.status", instance_contexts(inst))
    try:
        client, ctx = lookup.instance_client(deps, inst)
        return client.status(inst, ctx)
    except (errors.ServiceApiError, errors.UnknownEndpoint) as exc:
        raise errors.StatusFailed(str(exc)) from exc


@dataclass(frozen=True)
class InstanceInfo:
    instance: ServiceInstance
    plan_name: str
    plan_description: str
    custom_info: dict[str, str]


def info(deps: Deps, identity: Identity, service_name: str, name: str) -> InstanceInfo:
    svc = lookup.service(deps, service_name)
    inst = lookup.instance(deps, service_name, name)
    ensure(identity, "service-instance.read", instance_contexts(inst))
    client, ctx = lookup.instance_client(deps, inst)
    custom = {d.get("label", ""): d.get("value", "") for d in client.info(inst, ctx)}
    # The plan shown comes from the API's plan list, not from the stored name (tsuru).
    plans = lookup.client(deps, svc, ctx.pool).plans(ctx) or []
    plan = next((p for p in plans if p.name == inst.plan_name), None)
    return InstanceInfo(inst, plan.name if plan else "", plan.description if plan else "", custom)


def grant(
    deps: Deps, identity: Identity, service_name: str, name: str, team: str, fields: Any
) -> None:
    inst = lookup.instance(deps, service_name, name)
    permit = authorize(identity, "service-instance.update.grant", instance_contexts(inst))
    with permit.record(deps.recorder, target=target(service_name, name), custom_data=fields):
        if not _team_exists(deps, team):
            raise errors.InstanceTeamNotFound()
        deps.stores.instances.push_team(service_name, name, team)


def revoke(
    deps: Deps, identity: Identity, service_name: str, name: str, team: str, fields: Any
) -> None:
    inst = lookup.instance(deps, service_name, name)
    permit = authorize(identity, "service-instance.update.revoke", instance_contexts(inst))
    with permit.record(deps.recorder, target=target(service_name, name), custom_data=fields):
        if team == inst.team_owner:
            raise errors.RevokeOwner()
        if not _team_exists(deps, team):
            raise errors.InstanceTeamNotFound()
        deps.stores.instances.pull_team(service_name, name, team)
