"""Services: create, update, delete, doc, consumer access, plans (catalog.md §1, §f)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.catalog.domain import errors
from services.catalog.domain.models import Plan, Service, is_brokered
from services.catalog.domain.rules import (
    endpoint_map,
    service_admin,
    service_user,
    validate_service,
)
from services.catalog.operations import lookup
from services.catalog.operations.deps import CallContext, Deps
from shared.errors import Invalid
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import NO_TEAM, ensure, scope, team_for


@dataclass(frozen=True)
class ServiceInput:
    """The create/update form (catalog.md §a.2)."""

    name: str = ""
    username: str = ""
    password: str = ""
    endpoints: dict[str, str] | None = None
    endpoint: str = ""
    team: str = ""
    multi_cluster: bool = False
    disable_bind_unit: bool = False


def without_password(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # tsuru drops the password from form bodies only; JSON bodies leaked it to the
    # event log. Neither does here.
    return [f for f in fields if f.get("name") != "password"]


def _check_owner_teams(deps: Deps, teams: list[str]) -> None:
    known = set(deps.teams.names())
    if any(t not in known for t in teams):
        raise errors.TeamOwnerMissing()


def create_service(deps: Deps, identity: Identity, data: ServiceInput, fields: Any) -> None:
    team = data.team
    if not team:
        try:
            team = team_for(identity, "service.create", lambda: None)
        except Invalid as exc:
            if exc.message == NO_TEAM:
                raise errors.NoServiceTeam() from exc
            raise
    permit = authorize(identity, "service.create", [("team", team)])
    svc = Service(
        name=data.name,
        username=data.username,
        password=data.password,
        endpoint=endpoint_map(data.endpoints, data.endpoint),
        owner_teams=[team],
        is_multi_cluster=data.multi_cluster,
        disable_bind_unit=data.disable_bind_unit,
    )
    with permit.record(
        deps.recorder,
        target=Target("service", data.name),
        custom_data=without_password(fields),
        visible_in=service_admin(svc),
    ):
        validate_service(svc, creating=True)
        _check_owner_teams(deps, svc.owner_teams)
        deps.stores.services.add(svc)


def update_service(
    deps: Deps, identity: Identity, name: str, data: ServiceInput, fields: Any
) -> None:
    svc = lookup.service(deps, name)
    permit = authorize(identity, "service.update", service_admin(svc))
    with permit.record(
        deps.recorder, target=Target("service", name), custom_data=without_password(fields)
    ):
        new = Service(
            name=name,
            username=data.username,
            password=data.password,
            endpoint=endpoint_map(data.endpoints, data.endpoint),
            owner_teams=[data.team] if data.team else svc.owner_teams,
        )
        validate_service(new, creating=False)
        _check_owner_teams(deps, new.owner_teams)
        if not deps.stores.services.replace_settings(
            name,
            username=new.username,
            password=new.password,
            endpoint=new.endpoint,
            owner_teams=[data.team] if data.team else None,
        ):
            raise errors.ServiceNotFound()


def delete_service(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    svc = lookup.service(deps, name)
    permit = authorize(identity, "service.delete", service_admin(svc))
    # The event opens before the instance check: a refused delete leaves a failed event.
    with permit.record(deps.recorder, target=Target("service", name), custom_data=fields):
        if deps.stores.instances.count_for_service(name):
            raise errors.ServiceHasInstances()
        # A broker's service is not stored: tsuru's delete of it removes nothing, 200.
        if not deps.stores.services.delete(name) and not svc.broker:
            raise errors.ServiceNotFound()


def _team_exists(deps: Deps, team: str) -> None:
    if team not in deps.teams.names():
        raise errors.TeamNotFound()


def grant_access(deps: Deps, identity: Identity, name: str, team: str, fields: Any) -> None:
    svc = lookup.service(deps, name)
    permit = authorize(identity, "service.update.grant-access", service_admin(svc))
    _team_exists(deps, team)
    with permit.record(deps.recorder, target=Target("service", name), custom_data=fields):
        if team in svc.teams:
            raise errors.TeamAlreadyHasAccess()
        if is_brokered(name):
            raise errors.BrokeredNotManaged()  # tsuru re-validates and refuses to save it
        if not deps.stores.services.add_team(name, team):
            raise errors.TeamAlreadyHasAccess()


def revoke_access(deps: Deps, identity: Identity, name: str, team: str, fields: Any) -> None:
    svc = lookup.service(deps, name)
    permit = authorize(identity, "service.update.revoke-access", service_admin(svc))
    _team_exists(deps, team)
    # tsuru checks the count before the membership: 0 or 1 consumer team is never revoked.
    if len(svc.teams) < 2:
        raise errors.OnlyTeam()
    with permit.record(deps.recorder, target=Target("service", name), custom_data=fields):
        if not deps.stores.services.remove_team(name, team):
            raise errors.TeamHasNoAccess()


def set_doc(deps: Deps, identity: Identity, name: str, doc: str, fields: Any) -> None:
    svc = lookup.service(deps, name)
    permit = authorize(identity, "service.update.doc", service_admin(svc))
    with permit.record(deps.recorder, target=Target("service", name), custom_data=fields):
        if svc.broker:
            raise errors.BrokeredNotManaged()
        if not deps.stores.services.set_doc(name, doc):
            raise errors.ServiceNotFound()


def get_doc(deps: Deps, identity: Identity, name: str) -> str:
    svc = lookup.service(deps, name)
    if svc.is_restricted:
        ensure(identity, "service.read.doc", service_user(svc))
    return svc.doc


def plans(
    deps: Deps, identity: Identity, name: str, pool: str, request_id: str = ""
) -> list[Plan] | None:
    svc = lookup.service(deps, name)
    if svc.is_restricted:
        ensure(identity, "service.read.plans", service_user(svc))
    pool = pool if svc.is_multi_cluster else ""
    try:
        info = lookup.pool_info(deps, pool)
        client = lookup.client(deps, svc, info)
    except (errors.UnknownEndpoint, errors.PoolNotFound):
        return []  # tsuru: an endpoint it cannot resolve lists no plan
    try:
        return client.plans(CallContext(request_id=request_id, pool=info))
    except errors.MissingPool:
        raise errors.MissingPool(_visible_pools(deps, identity)) from None


def _visible_pools(deps: Deps, identity: Identity) -> list[str]:
    contexts = scope(identity, "service-instance.read")
    if any(t == "global" for t, _ in contexts):
        return sorted(deps.pools.visible(None))
    return sorted(deps.pools.visible([v for t, v in contexts if t == "team"]))
