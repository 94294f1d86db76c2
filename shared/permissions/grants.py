"""The check algorithm on grants (permissions.md §4): pure functions, no recording.

Use these for rules about data (which roles a caller may see). Deciding whether a
caller may do what it asks goes through ``shared.permissions.authorize``.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.identity import Grant
from shared.permissions.tree import ROOT, normalize


def implies(granted: str, wanted: str) -> bool:
    """True when holding ``granted`` allows ``wanted`` (same node or an ancestor)."""
    return granted == ROOT or granted == wanted or wanted.startswith(granted + ".")


Context = tuple[str, str]


def check(grants: Iterable[Grant], scheme: str, contexts: Iterable[Context] = ()) -> bool:
    wanted = normalize(scheme)
    ctxs = set(contexts)
    for g in grants:
        if not implies(g.scheme, wanted):
            continue
        if g.ctx_type == "global" or (g.ctx_type, g.ctx_value) in ctxs:
            return True
    return False


def contexts_for(
    grants: Iterable[Grant], scheme: str, ctx_type: str | None = None
) -> list[Context]:
    """Contexts of every grant allowing ``scheme`` (a global one means "anything")."""
    wanted = normalize(scheme)
    out: list[Context] = []
    for g in grants:
        if implies(g.scheme, wanted) and (ctx_type is None or g.ctx_type in (ctx_type, "global")):
            out.append((g.ctx_type, g.ctx_value))
    return out


def has_global(grants: Iterable[Grant], scheme: str) -> bool:
    return any(t == "global" for t, _ in contexts_for(grants, scheme))
