"""``POST /node/status`` (apps.md §9.2): a node agent reports its units' statuses.

Only the internal ``tsr`` token may call it; the report is relayed to the
provisioner, which owns nodes and units and answers which units it knows. No event
(tsuru records none).
"""

from __future__ import annotations

from typing import Any

from services.apps.domain.deploy_errors import NodeStatusForbidden
from services.apps.operations.deploys import internal_token
from services.apps.operations.deps import Deps
from shared.identity import Identity


def ensure_internal(identity: Identity) -> None:
    """Checked before the body is read (tsuru's order)."""
    if not internal_token(identity):
        raise NodeStatusForbidden()


def node_status(deps: Deps, identity: Identity, report: dict[str, Any]) -> list[dict[str, Any]]:
    ensure_internal(identity)
    units = report.get("Units") or []
    answer = deps.provisioner.node_status(report)
    # One entry per reported unit, Found false for units the provisioner does not know.
    found = {str(u.get("ID")): bool(u.get("Found")) for u in answer if isinstance(u, dict)}
    return [
        {"ID": str(u.get("ID", "")), "Found": found.get(str(u.get("ID", "")), False)} for u in units
    ]
