"""App routers (apps.md §9.4): list, add, update, remove, routable; routes rebuilt by
the provisioner after every change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.apps.domain import rules
from services.apps.domain.models import App, AppRouter
from services.apps.operations import sync
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.errors import Conflict, Invalid, NotFound, TsubameError
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure


class RouterNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f'router "{name}" not found')


class RouterAlreadyLinked(Conflict):
    # tsuru 1.11 answers 500; the router is there already (docs/compatibility.md).
    message = "router already linked to this app"


@dataclass(frozen=True)
class ShownRouter:
    router: AppRouter
    address: str


def list_routers(deps: Deps, identity: Identity, name: str) -> list[ShownRouter]:
    app = existing(deps, name)
    ensure(identity, "app.read.router", app.contexts())
    address = rules.address(app, deps.config.address_domain)
    return [ShownRouter(r, address) for r in app.routers]


def _placement_problem(deps: Deps, app: App, router: str, opts: dict[str, str]) -> Exception | None:
    """The provisioner's verdict on ``router`` for the app's pool: a missing router is
    raised at once (tsuru looks it up before the permission), other refusals returned
    to be raised after the permission check, as tsuru orders them."""
    try:
        deps.provisioner.placement({
            "team_owner": app.team_owner, "pool": app.pool, "plan": app.plan.name,
            "router": router, "routeropts": dict(opts), "platform": app.platform_label,
        })  # fmt: skip
    except TsubameError as exc:
        if exc.status < 500 and exc.message == f'router "{router}" not found':
            raise RouterNotFound(router) from None
        if exc.status < 500 and "is not available for pool" in exc.message:
            return exc
        raise
    return None


def add_router(
    deps: Deps, identity: Identity, name: str, router: str, opts: dict[str, str], fields: Any
) -> None:
    app = existing(deps, name)
    problem = _placement_problem(deps, app, router, opts)
    permit = authorize(identity, "app.update.router.add", app.contexts())
    if problem is not None:
        raise problem
    with permit.record(deps.recorder, target=Target("app", name), custom_data=fields) as evt:
        if not deps.stores.apps.add_router(name, AppRouter(router, dict(opts))):
            raise RouterAlreadyLinked()
        try:
            sync.rebuild_routes(deps, evt, name)
        except BaseException:
            deps.stores.apps.remove_router(name, router)
            raise


def update_router(
    deps: Deps, identity: Identity, name: str, router: str, opts: dict[str, str], fields: Any
) -> None:
    app = existing(deps, name)
    problem = _placement_problem(deps, app, router, opts)
    permit = authorize(identity, "app.update.router.update", app.contexts())
    if problem is not None:
        raise problem
    with permit.record(deps.recorder, target=Target("app", name), custom_data=fields) as evt:
        before = next((r for r in app.routers if r.name == router), None)
        if before is None or not deps.stores.apps.set_router_opts(name, router, dict(opts)):
            raise RouterNotFound(router)
        try:
            sync.rebuild_routes(deps, evt, name)
        except BaseException:
            deps.stores.apps.set_router_opts(name, router, before.opts)
            raise


def remove_router(deps: Deps, identity: Identity, name: str, router: str, fields: Any) -> None:
    app = existing(deps, name)
    permit = authorize(identity, "app.update.router.remove", app.contexts())
    with permit.record(deps.recorder, target=Target("app", name), custom_data=fields) as evt:
        if not deps.stores.apps.remove_router(name, router):
            raise RouterNotFound(router)
        sync.rebuild_routes(deps, evt, name)


def set_routable(
    deps: Deps, identity: Identity, name: str, version: str, routable: bool, fields: Any
) -> None:
    """Marks one version's units as receiving traffic or not (the provisioner's
    ``routable`` command answers ``Invalid version: <v>`` for an unknown one)."""
    app = existing(deps, name)
    permit = authorize(identity, "app.update.routable", app.contexts())
    with permit.record(deps.recorder, target=Target("app", name), custom_data=fields) as evt:
        try:
            number = int(version)
        except ValueError:
            raise Invalid(f"Invalid version: {version}") from None
        sync.command(deps, evt, "routable", app, {"version": number, "routable": routable})
