"""Unit autoscale of an app (apps.md §9.2): stored and evaluated by the provisioner
runtime; apps checks the permission, records the event and forwards the spec with
what the rules need (the app quota, the plan)."""

from __future__ import annotations

from typing import Any

from services.apps.domain.spec import plan_spec
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.events import Target
from shared.identity import Identity
from shared.mutation import mutation
from shared.permissions import ensure


def autoscale_info(deps: Deps, identity: Identity, name: str) -> list[dict[str, Any]] | None:
    """The app's autoscale specs; None (JSON null) when there are none, as Go's nil
    slice marshals."""
    app = existing(deps, name)
    ensure(identity, "app.read", app.contexts())
    specs = deps.provisioner.autoscale(app.name)
    return specs or None


def add_autoscale(
    deps: Deps, identity: Identity, name: str, spec: dict[str, Any], fields: list[dict[str, Any]]
) -> None:
    app = existing(deps, name)
    with mutation(
        deps,
        identity,
        "app.update.unit.autoscale.add",
        target=Target("app", app.name),
        contexts=app.contexts(),
        custom_data=fields,
    ):
        deps.provisioner.set_autoscale(app.name, spec, app.quota_limit, plan_spec(app))


def remove_autoscale(
    deps: Deps, identity: Identity, name: str, process: str, fields: list[dict[str, Any]]
) -> None:
    app = existing(deps, name)
    with mutation(
        deps,
        identity,
        "app.update.unit.autoscale.remove",
        target=Target("app", app.name),
        contexts=app.contexts(),
        custom_data=fields,
    ):
        deps.provisioner.remove_autoscale(app.name, process)
