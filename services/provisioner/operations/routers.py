"""Routers: the built-in ones of the configuration and the dynamic ones stored here
(provisioning.md §2k, §3.13).

The gateway is Tsubame's only router implementation: it routes every app's traffic
itself. So ``gateway`` is the one registered router type a dynamic router may have;
tsuru's external router types (``api``, ``galebv2``, ``hipache``, ``planb``) would need
a router service Tsubame does not drive, and are refused as "not registered".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.models import ROUTER, DynamicRouter
from services.provisioner.domain.pools import visible_to_teams
from services.provisioner.domain.rules import effective, filter_allowed
from services.provisioner.operations.deps import Deps
from services.provisioner.operations.names import router_names
from shared.events import READ_EVENTS, Allowed, Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import allows, scope

REGISTERED_TYPES = ("gateway",)


@dataclass(frozen=True)
class RouterView:
    name: str
    type: str
    info: dict[str, str] | None
    config: dict[str, Any] | None
    readiness_gates: list[str] | None
    dynamic: bool
    default: bool


def all_routers(deps: Deps) -> list[RouterView]:
    out = [
        RouterView(r.name, r.type, None, dict(r.config) or None, None, False, r.default)
        for r in deps.config.routers
    ]
    builtin = {r.name for r in deps.config.routers}
    out += [
        RouterView(r.name, r.type, None, dict(r.config), list(r.readiness_gates) or None,
                   True, False)
        for r in deps.stores.routers.all()
        if r.name not in builtin
    ]  # fmt: skip
    return sorted(out, key=lambda r: r.name)


def list_routers(deps: Deps, identity: Identity) -> list[RouterView]:
    """Routers the caller's teams may use (global app.create: all); their config only
    for global router creators."""
    ctxs = scope(identity, "app.create")
    routers = all_routers(deps)
    if not any(t == "global" for t, _ in ctxs):
        teams = [v for t, v in ctxs if t == "team"]
        constraints = deps.stores.constraints.all()
        names = router_names(deps)
        usable: set[str] = set()
        for pool in deps.stores.pools.all():
            if not visible_to_teams(constraints, pool.name, teams):
                continue
            allowed = filter_allowed(effective(constraints, pool.name, ROUTER), names)
            if not allowed:
                raise errors.NoRouterForPool()
            usable.update(allowed)
        routers = [r for r in routers if r.name in usable]
    if not allows(identity, "router.create"):
        routers = [
            RouterView(r.name, r.type, r.info, None, r.readiness_gates, r.dynamic, r.default)
            for r in routers
        ]
    return routers


def _validate(deps: Deps, router: DynamicRouter) -> None:
    if not router.name or not router.type:
        raise errors.RouterNameTypeRequired()
    if router.type not in REGISTERED_TYPES:
        raise errors.RouterTypeNotRegistered(router.type)
    if any(r.name == router.name for r in deps.config.routers):
        raise errors.RouterInConfig(router.name)


def _visibility(name: str) -> Allowed:
    return Allowed(READ_EVENTS["router"], (("router", name),))


def add_router(deps: Deps, identity: Identity, router: DynamicRouter, fields: Any) -> None:
    permit = authorize(identity, "router.create")
    if deps.stores.routers.get(router.name) is not None:
        raise errors.DynamicRouterExists()
    with permit.record(deps.recorder, target=Target("router", router.name),
                       custom_data=fields, allowed=_visibility(router.name)):  # fmt: skip
        _validate(deps, router)
        deps.stores.routers.add(router)


def update_router(
    deps: Deps, identity: Identity, name: str, kind: str, config: dict[str, Any], fields: Any
) -> None:
    permit = authorize(identity, "router.update", [("router", name)])
    with permit.record(deps.recorder, target=Target("router", name), custom_data=fields,
                       allowed=_visibility(name)):  # fmt: skip
        existing = deps.stores.routers.get(name)
        if existing is None:
            raise errors.DynamicRouterNotFound()
        updated = DynamicRouter(
            name, kind or existing.type, existing.readiness_gates, dict(existing.config)
        )
        _validate(deps, updated)
        for key, value in config.items():
            if value is None:
                updated.config.pop(key, None)
            else:
                updated.config[key] = value
        if not deps.stores.routers.replace(updated):
            raise errors.DynamicRouterNotFound()


def delete_router(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    permit = authorize(identity, "router.delete", [("router", name)])
    with permit.record(deps.recorder, target=Target("router", name), custom_data=fields,
                       allowed=_visibility(name)):  # fmt: skip
        if not deps.stores.routers.delete(name):
            raise errors.DynamicRouterNotFound()
