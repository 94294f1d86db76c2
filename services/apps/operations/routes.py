"""Routes rebuilt on demand and metric envs (apps.md §9.3)."""

from __future__ import annotations

from typing import Any

from services.apps.operations import sync
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.events import Target
from shared.identity import Identity
from shared.mutation import mutation
from shared.permissions import ensure


def _addresses(raw: Any) -> list[str] | None:
    if not isinstance(raw, list) or not raw:
        return None
    return [a if "://" in str(a) else f"http://{a}" for a in raw]


def rebuild(deps: Deps, identity: Identity, name: str, dry: bool, fields: Any) -> dict[str, Any]:
    """``{router: {"PrefixResults": [...], "Added", "Removed"}}`` (tsuru's shape; the
    top-level Added/Removed repeat the empty prefix's for old clients)."""
    app = existing(deps, name)
    with mutation(
        deps, identity, "app.admin.routes", target=Target("app", name),
        contexts=app.contexts(), custom_data=fields,
    ) as evt:  # fmt: skip
        result = sync.rebuild_routes(deps, evt, name, dry=dry)
        added, removed = _addresses(result.get("added")), _addresses(result.get("removed"))
        out = {
            r.name: {
                "PrefixResults": [{"Prefix": "", "Added": added, "Removed": removed}],
                "Added": added,
                "Removed": removed,
            }
            for r in app.routers
        }
        evt.set_other_data(out)
    return out


def metric_envs(deps: Deps, identity: Identity, name: str) -> dict[str, str]:
    """The ``METRICS_*`` variables of the pool's metrics node container: Tsubame runs
    no such container (its units' metrics are the provisioner's own), so none."""
    app = existing(deps, name)
    ensure(identity, "app.read.metric", app.contexts())
    return {}
