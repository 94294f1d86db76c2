"""Deciding whether a caller may do what it asks: the recorded checks.

Every authorization decision of an operation goes through one of these, never
through ``check`` directly: each notes the permission it consulted, so the
architecture tests can call every route and compare what its operation checked
with what the route declares (``@requires``). Notes are kept only inside
``recording()`` (a context variable), so production pays one lookup per check.

* ``ensure``: 403 unless allowed (in the given contexts);
* ``ensure_any``: 403 unless one of several is allowed (tsuru's ``GET /roles``);
* ``allows``: the same decision as a bool, for tsuru's disguised denials
  (``DELETE /teams`` answers 404) and conditional rules;
* ``scope``: the contexts a caller may act in, for listings filtered by permission;
* ``team_for``: tsuru's automatic team choice when a request names none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from shared.errors import Forbidden, Invalid
from shared.identity import Identity
from shared.permissions.grants import Context, check, contexts_for
from shared.permissions.tree import normalize

NO_TEAM = "You must provide a team to execute this action."

_checked: ContextVar[list[str] | None] = ContextVar("tsubame_checked_permissions", default=None)


@contextmanager
def recording() -> Iterator[list[str]]:
    """Collect the permissions checked inside the block (tests walk routes with it)."""
    token = _checked.set([])
    try:
        checked = _checked.get()
        assert checked is not None
        yield checked
    finally:
        _checked.reset(token)


def _note(scheme: str) -> None:
    checked = _checked.get()
    if checked is not None:
        checked.append(normalize(scheme))


def allows(identity: Identity, scheme: str, contexts: Iterable[Context] = ()) -> bool:
    _note(scheme)
    return check(identity.grants, scheme, contexts)


def ensure(identity: Identity, scheme: str, contexts: Iterable[Context] = ()) -> None:
    """403 ``You don't have permission to do this action`` unless allowed."""
    if not allows(identity, scheme, contexts):
        raise Forbidden()


def ensure_any(identity: Identity, schemes: Iterable[str]) -> None:
    """403 unless one of ``schemes`` is allowed globally."""
    if not any(allows(identity, s) for s in schemes):
        raise Forbidden()


def scope(identity: Identity, scheme: str, ctx_type: str | None = None) -> list[Context]:
    """Contexts where ``scheme`` is allowed (``("global", "")`` means anywhere)."""
    _note(scheme)
    return contexts_for(identity.grants, scheme, ctx_type)


def team_for(identity: Identity, scheme: str, only_team: Callable[[], str | None]) -> str:
    """tsuru's automatic team choice when a request names none (permissions.md §5).

    ``only_team`` returns the single team of the system, or None when there are
    zero or several (asked lazily: it may cost a call to the auth service).
    """
    ctxs = scope(identity, scheme)
    teams = [v for t, v in ctxs if t == "team"]
    global_grant = any(t == "global" for t, _ in ctxs)
    if not teams and not global_grant:
        raise Forbidden()
    if len(teams) == 1 and not global_grant:
        return teams[0]
    team = only_team()
    if team is None:
        raise Invalid(NO_TEAM)
    return team
