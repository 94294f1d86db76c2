"""One helper per mutation: check the permission, open the event of the same name.

In tsuru a mutation's event kind is the permission it checked
(``app.update.env.set``). Naming it once keeps the two from drifting::

    with mutation(deps, identity, "app.update.env.set", target=Target("app", name),
                  contexts=app_contexts, custom_data=fields) as evt:
        evt.log("---- Setting 1 new environment variables ----\\n")
        ...

When tsuru does something between the check and the event (a lookup that answers
404 only to callers allowed to know), split it::

    permit = authorize(identity, "team.update", [("team", name)])
    team = existing(deps, name)
    with permit.record(deps.recorder, target=Target("team", name)) as evt: ...

Events no permission check guards (tsuru's public and self-service routes: user
creation, password reset and change) start from ``unchecked(owner, kind)``.

The event's visibility (``Allowed``) defaults to the target type's
``<type>.read.events`` permission in the contexts the check used; pass
``visible_in=`` for other contexts, or ``allowed=`` to state it whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from shared.errors import Forbidden, TsubameError
from shared.events import (
    NOBODY_BUT_ADMINS,
    READ_EVENTS,
    Allowed,
    EventSpec,
    ExtraTarget,
    Owner,
    Recorder,
    RunningEvent,
    Target,
)
from shared.identity import Identity
from shared.permissions import Context, allows


class HasRecorder(Protocol):
    """Any context's collaborator bundle (``Deps``): it carries the recorder."""

    @property
    def recorder(self) -> Recorder: ...


@dataclass(frozen=True)
class Permit:
    """A checked permission, ready to open the mutation's event (kind = permission)."""

    permission: str
    owner: Owner
    contexts: tuple[Context, ...] = ()

    def record(
        self,
        recorder: Recorder,
        *,
        target: Target,
        custom_data: Any = None,
        visible_in: Iterable[Context] | None = None,
        allowed: Allowed | None = None,
        extra_targets: Iterable[ExtraTarget] = (),
        lock: bool = True,
        cancelable: bool = False,
        allowed_cancel: Allowed = NOBODY_BUT_ADMINS,
    ) -> AbstractContextManager[RunningEvent]:
        if allowed is None:
            contexts = self.contexts if visible_in is None else tuple(visible_in)
            allowed = Allowed(READ_EVENTS[target.type], contexts)
        spec = EventSpec(
            target=target,
            kind=self.permission,
            owner=self.owner,
            allowed=allowed,
            custom_data=custom_data,
            extra_targets=tuple(extra_targets),
            lock=lock,
            cancelable=cancelable,
            allowed_cancel=allowed_cancel,
        )
        return recorder.record(spec)


def authorize(
    identity: Identity,
    permission: str,
    contexts: Iterable[Context] = (),
    *,
    denied: TsubameError | None = None,
) -> Permit:
    """Check the permission (403, or ``denied`` where tsuru disguises the refusal) and
    return the permit for its event."""
    ctxs = tuple(contexts)
    if not allows(identity, permission, ctxs):
        raise denied if denied is not None else Forbidden()
    return Permit(permission, Owner.of(identity), ctxs)


def unchecked(owner: Owner | Identity, kind: str) -> Permit:
    """A permit for an event whose operation checks no permission (tsuru's public and
    self-service routes); the route declares why (``@public``/``@authenticated``)."""
    return Permit(kind, owner if isinstance(owner, Owner) else Owner.of(owner))


def mutation(
    deps: HasRecorder,
    identity: Identity,
    permission: str,
    *,
    target: Target,
    contexts: Iterable[Context] = (),
    custom_data: Any = None,
    visible_in: Iterable[Context] | None = None,
    allowed: Allowed | None = None,
    extra_targets: Iterable[ExtraTarget] = (),
    lock: bool = True,
    cancelable: bool = False,
    allowed_cancel: Allowed = NOBODY_BUT_ADMINS,
) -> AbstractContextManager[RunningEvent]:
    """Check ``permission`` in ``contexts`` and record the event of that kind around
    the body (the event fails with the body's exception, which propagates)."""
    return authorize(identity, permission, contexts).record(
        deps.recorder,
        target=target,
        custom_data=custom_data,
        visible_in=visible_in,
        allowed=allowed,
        extra_targets=extra_targets,
        lock=lock,
        cancelable=cancelable,
        allowed_cancel=allowed_cancel,
    )
