"""App creation (apps.md §2), checks in tsuru's order.

Pool, plan, router and platform rules live in the provisioner (one placement call,
docs/runtime.md); the steps after the checks (quota, record, token) are a pipeline, so
a failure leaves no quota used, no record and no token behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.apps.domain import errors, rules
from services.apps.domain.env import internal_vars
from services.apps.domain.models import App, AppRouter, Metadata, MetadataItem, Plan
from services.apps.operations.deps import Deps, Placement
from shared.errors import Invalid, TsubameError
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import allows, team_for
from shared.pipeline import Action, Backward, Forward, Pipeline

# Placement refusals tsuru checks after the name (§2.3 step 9): an invalid name wins.
_AFTER_NAME = ("is not available for pool", "is not allowed on pool")


@dataclass(frozen=True)
class NewApp:
    name: str
    platform: str = ""
    plan: str = ""
    team_owner: str = ""
    pool: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    router: str = ""
    routeropts: dict[str, str] = field(default_factory=dict)
    labels: list[MetadataItem] = field(default_factory=list)
    annotations: list[MetadataItem] = field(default_factory=list)


def _only_team(deps: Deps) -> str | None:
    names = deps.auth.team_names()
    return names[0] if len(names) == 1 else None


def _place(deps: Deps, new: NewApp, team_owner: str) -> Placement:
    request = {
        "team_owner": team_owner,
        "pool": new.pool,
        "plan": new.plan,
        "router": new.router,
        "routeropts": dict(new.routeropts),
        "platform": new.platform,
    }
    try:
        placement = deps.provisioner.placement(request)
    except TsubameError as exc:
        if exc.status < 500 and any(marker in exc.message for marker in _AFTER_NAME):
            rules.validate_name(new.name)
        raise
    rules.validate_name(new.name)
    return placement


def _record(new: NewApp, team_owner: str, owner: str, placed: Placement, deps: Deps) -> App:
    return App(
        name=new.name,
        pool=placed.pool,
        team_owner=team_owner,
        teams=[team_owner],
        owner=owner,
        platform=placed.platform,
        platform_version=placed.platform_version,
        plan=Plan.from_json(placed.plan),
        description=new.description,
        tags=list(new.tags),
        metadata=Metadata(list(new.labels), list(new.annotations)),
        routers=[
            AppRouter(str(r.get("name", "")), dict(r.get("opts") or {}), str(r.get("type", "")))
            for r in placed.routers
        ],
        env={e.name: e for e in internal_vars(new.name, deps.config.app_dir)},
        quota_limit=deps.config.units_per_app,
        provisioner=placed.provisioner,
        cluster=placed.cluster,
        created_at=deps.clock(),
    )


def create_app(deps: Deps, identity: Identity, new: NewApp, fields: Any) -> App:
    team_owner = new.team_owner or team_for(identity, "app.create", lambda: _only_team(deps))
    permit = authorize(identity, "app.create", [("team", team_owner)])
    owner = identity.email or identity.name
    with permit.record(
        deps.recorder,
        target=Target("app", new.name),
        custom_data=fields,
        visible_in=[("app", new.name), ("team", team_owner)],
    ):
        if deps.stores.apps.exists(new.name):
            raise errors.AppExists(new.name)
        if not deps.auth.team_exists(team_owner):
            raise Invalid("team not found")
        placed = _place(deps, new, team_owner)
        # A disabled platform is for platform admins only (tsuru 1.11 answers 400).
        if placed.platform_disabled and not (
            allows(identity, "platform.update") or allows(identity, "platform.create")
        ):
            raise Invalid("Invalid platform")
        app = _record(new, team_owner, owner, placed, deps)
        quota_user = identity.email if identity.is_user else ""
        try:
            _steps(deps).execute(_Params(app, quota_user))
        except TsubameError as exc:
            # tsuru wraps what fails after the checks; quota (403), a duplicate (409)
            # and an unavailable peer (503) keep their own status and text.
            if exc.status in (403, 409, 503):
                raise
            raise errors.CreateFailed(new.name, exc.message) from exc
    return app


@dataclass
class _Params:
    app: App
    quota_user: str


def _steps(deps: Deps) -> Pipeline[_Params]:
    def reserve(c: Forward[_Params]) -> None:
        deps.auth.reserve_app(c.params.quota_user, c.params.app.team_owner)

    def release(c: Backward[_Params]) -> None:
        deps.auth.release_app(c.params.quota_user, c.params.app.team_owner)

    def insert(c: Forward[_Params]) -> None:
        deps.stores.apps.add(c.params.app)

    def delete(c: Backward[_Params]) -> None:
        deps.stores.apps.delete(c.params.app.name)

    def token(c: Forward[_Params]) -> None:
        deps.auth.app_token(c.params.app.name)

    return Pipeline(
        Action("reserve-app-quota", reserve, release),
        Action("insert-app", insert, delete),
        Action("issue-app-token", token),
    )
