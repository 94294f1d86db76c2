"""``PUT /apps/{app}`` (apps.md §9.1): each changed field needs its own permission;
the event is tsuru's generic ``app.update``. A pool, plan, platform or team owner
change is checked by the provisioner's placement and reaches it as an ``update``
command (a pool move re-provisions; a plan change restarts unless ``noRestart``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.apps.domain import metadata, rules
from services.apps.domain.deploy_errors import CommandFailed
from services.apps.domain.models import App, Plan
from services.apps.operations import commands
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from services.apps.operations.sinks import Sink
from shared.errors import Invalid
from shared.events import Allowed, Owner, Target
from shared.identity import Identity
from shared.mutation import Permit
from shared.permissions import allows, ensure

NOTHING = (
    "Neither the description, tags, plan, pool, team owner or platform were set. "
    "You must define at least one."
)


@dataclass(frozen=True)
class Changes:
    description: str = ""
    tags: list[str] = field(default_factory=list)
    plan: str = ""
    override: dict[str, Any] | None = None  # {"memory", "cpumilli"} as sent
    pool: str = ""
    team_owner: str = ""
    platform: str = ""
    image_reset: bool = False
    no_restart: bool = False
    router: str = ""
    routeropts: dict[str, str] = field(default_factory=dict)
    labels: list[metadata.ItemChange] = field(default_factory=list)
    annotations: list[metadata.ItemChange] = field(default_factory=list)


def _override_value(raw: Any) -> int | None | str:
    """An override as Go decodes ``*int``: absent -> "keep"; 0/"" -> clear (None)."""
    if raw is None:
        return "keep"
    if raw == "" or raw == 0:
        return None
    if isinstance(raw, bool):
        raise Invalid("unable to parse as json: planoverride: Not a valid integer.")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise Invalid(f"unable to decode form: planoverride: Not a valid integer: {raw}") from None
    return value if value != 0 else None


def wanted(c: Changes) -> list[str]:
    """tsuru's permission per changed field, in its order (400s on the way)."""
    if c.router or c.routeropts:
        raise Invalid(
            "updating router was deprecated, please add the wanted router and remove the old one"
        )
    perms: list[str] = []
    if c.description:
        perms.append("app.update.description")
    if c.tags:
        perms.append("app.update.tags")
    if c.plan:
        perms.append("app.update.plan")
    if c.override and any(v is not None for v in c.override.values()):
        perms.append("app.update.planoverride")
    if c.pool:
        if c.no_restart:
            raise Invalid("You must restart the app when changing the pool.")
        perms.append("app.update.pool")
    if c.team_owner:
        perms.append("app.update.teamowner")
    if c.platform:
        perms.append("app.update.platform")
    if c.platform or c.image_reset:
        perms.append("app.update.image-reset")
    if c.labels or c.annotations:
        perms.append("app.update.metadata")
    if not perms:
        raise Invalid(NOTHING)
    return perms


def check(deps: Deps, identity: Identity, name: str, c: Changes) -> tuple[App, Permit]:
    app = existing(deps, name)
    for perm in wanted(c):
        ensure(identity, perm, app.contexts())
    contexts = tuple(app.contexts())
    # The event is the generic app.update whichever field permissions were checked.
    return app, Permit("app.update", Owner.of(identity), contexts)


def update(
    deps: Deps,
    identity: Identity,
    permit: Permit,
    app: App,
    c: Changes,
    fields: Any,
    write: Callable[[str], None],
) -> None:
    with permit.record(
        deps.recorder,
        target=Target("app", app.name),
        custom_data=fields,
        cancelable=True,
        allowed_cancel=Allowed("app.update.events", permit.contexts),
    ) as evt:
        evt.attach(Sink(write))
        changes, provision, restart = _resolve(deps, identity, app, c)
        if c.team_owner:
            deps.stores.apps.add_team(app.name, changes["team_owner"])
        deps.stores.apps.update(app.name, changes)
        if provision:
            fresh = existing(deps, app.name)
            try:
                commands.run(deps, evt, "update", fresh, {"restart": restart}, write)
            except CommandFailed:
                # tsuru's saveApp is undone when a later step fails: the app keeps its
                # pool, plan and platform (the provisioner left its units as they were;
                # only a failure it reported undoes: a relay cut short proves nothing).
                deps.stores.apps.update(app.name, {k: getattr(app, k) for k in changes})
                raise


def _resolve(
    deps: Deps, identity: Identity, app: App, c: Changes
) -> tuple[dict[str, Any], bool, bool]:
    """The stored changes, whether the provisioner must hear of them, and restart."""
    changes: dict[str, Any] = {}
    if c.description:
        changes["description"] = c.description
    tags = rules.clean_tags(c.tags)
    if tags:
        changes["tags"] = tags
    plan = Plan.from_json(app.plan.to_json())
    placement_needed = bool(c.pool or c.plan or c.platform or c.team_owner)
    if placement_needed:
        placed = deps.provisioner.placement({
            "team_owner": c.team_owner or app.team_owner,
            "pool": c.pool or app.pool,
            "plan": c.plan or app.plan.name,
            "router": "",
            "routeropts": {},
            "routers": [{"name": r.name, "opts": dict(r.opts)} for r in app.routers],
            "platform": c.platform or app.platform_label,
        })  # fmt: skip
        if (
            c.platform
            and placed.platform_disabled
            and not (allows(identity, "platform.update") or allows(identity, "platform.create"))
        ):
            raise Invalid("Invalid platform")
        if c.pool:
            changes.update(pool=placed.pool, provisioner=placed.provisioner, cluster=placed.cluster)
        if c.plan:
            fresh = Plan.from_json(placed.plan)
            fresh.override_memory, fresh.override_cpumilli = (
                plan.override_memory,
                plan.override_cpumilli,
            )
            plan = fresh
        if c.team_owner:
            changes["team_owner"] = c.team_owner
        if c.platform:
            if (placed.platform, placed.platform_version) != (app.platform, app.platform_version):
                changes["update_platform"] = True
            changes["platform"] = placed.platform
            changes["platform_version"] = placed.platform_version
    if c.image_reset:
        changes["update_platform"] = True
    if c.override:
        memory = _override_value(c.override.get("memory"))
        cpumilli = _override_value(c.override.get("cpumilli"))
        if memory != "keep":
            plan.override_memory = memory  # type: ignore[assignment]
        if cpumilli != "keep":
            plan.override_cpumilli = cpumilli  # type: ignore[assignment]
    plan_changed = plan != app.plan
    if plan_changed:
        changes["plan"] = plan
    if c.labels or c.annotations:
        metadata.validate(c.labels, c.annotations)
        changes["metadata"] = metadata.updated(app.metadata, c.labels, c.annotations)
    pool_moved = bool(c.pool) and changes.get("pool") != app.pool
    restart = pool_moved or (plan_changed and not c.no_restart)
    provision = pool_moved or plan_changed or bool(c.platform) or bool(c.team_owner)
    return changes, provision, restart
