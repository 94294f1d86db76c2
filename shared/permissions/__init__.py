"""tsuru's permissions: the tree, the check algorithm, and authorization.

* ``tree``: every permission node, its contexts and registration order;
* ``grants``: the pure check algorithm on a caller's grants (``check``,
  ``contexts_for``, ``implies``, ``has_global``);
* ``authorize``: the decisions operations make about a caller (``ensure``,
  ``ensure_any``, ``allows``, ``scope``, ``team_for``), noted for the route tests.

A grant ``(scheme, ctx_type, ctx_value)`` satisfies a check of permission ``P`` in
contexts ``C1..Cn`` when its scheme is ``P`` or an ancestor of ``P`` (the root ``""``
is everyone's ancestor) and it is global or one ``Ci`` has the same type and value.
"""

from shared.permissions.authorize import (
    NO_TEAM,
    allows,
    ensure,
    ensure_any,
    recording,
    scope,
    team_for,
)
from shared.permissions.grants import Context, check, contexts_for, has_global, implies
from shared.permissions.tree import (
    CONTEXT_TYPES,
    ROOT,
    Node,
    is_registered,
    normalize,
    registration_order,
    sorted_nodes,
    tree,
)

__all__ = [
    "CONTEXT_TYPES", "NO_TEAM", "ROOT", "Context", "Node", "allows", "check",
    "contexts_for", "ensure", "ensure_any", "has_global", "implies", "is_registered",
    "normalize", "recording", "registration_order", "scope", "sorted_nodes", "team_for",
    "tree",
]  # fmt: skip
