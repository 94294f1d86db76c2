"""Reversible multi-step operations: tsuru's action pipeline.

A ``Pipeline`` runs its actions' ``forward`` in order. When one raises, the actions
already done are undone by running their ``backward`` in reverse order, then the
original exception propagates. The failing action's own ``backward`` is not run (it
did not complete); its ``on_error`` is, first. An exception raised by a ``backward``
is logged and the rollback goes on: undoing as much as possible matters more than
the first undo error, and the caller must see the error that started it all.

Each forward gets a ``Forward`` context (the pipeline's params and the previous
action's result) and returns its result; each backward gets a ``Backward`` context
(the params and the result its own forward returned)::

    reserve = Action("reserve-quota", forward=lambda c: quota.reserve(c.params.owner),
                     backward=lambda c: quota.release(c.params.owner))
    insert = Action("insert-app", forward=lambda c: store.add(c.params.app),
                    backward=lambda c: store.delete(c.params.app.name))
    Pipeline(reserve, insert).execute(params)

Forwards should be idempotent where a command may be redelivered (a worker that
dies mid-pipeline runs it again from the start).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

P = TypeVar("P")


@dataclass(frozen=True)
class Forward(Generic[P]):
    params: P
    previous: Any  # the previous action's result (None for the first)


@dataclass(frozen=True)
class Backward(Generic[P]):
    params: P
    result: Any  # what this action's forward returned


@dataclass(frozen=True)
class Action(Generic[P]):
    name: str
    forward: Callable[[Forward[P]], Any]
    backward: Callable[[Backward[P]], None] | None = None
    # Called with the exception when this action's forward fails (before the rollback).
    on_error: Callable[[Forward[P], BaseException], None] | None = None


class Pipeline(Generic[P]):
    def __init__(self, *actions: Action[P]) -> None:
        if not actions:
            raise ValueError("a pipeline needs at least one action")
        self.actions = actions

    def execute(self, params: P) -> Any:
        """Run every forward; returns the last one's result. On failure, roll back and
        re-raise the forward's exception."""
        done: list[tuple[Action[P], Any]] = []
        previous: Any = None
        for action in self.actions:
            ctx = Forward(params, previous)
            try:
                previous = action.forward(ctx)
            except BaseException as exc:
                if action.on_error is not None:
                    try:
                        action.on_error(ctx, exc)
                    except Exception:
                        log.exception("pipeline: on_error of %s failed", action.name)
                self._rollback(params, done, failed=action.name)
                raise
            done.append((action, previous))
        return previous

    @staticmethod
    def _rollback(params: P, done: list[tuple[Action[P], Any]], *, failed: str) -> None:
        for action, result in reversed(done):
            if action.backward is None:
                continue
            log.info("pipeline: rolling back %s after %s failed", action.name, failed)
            try:
                action.backward(Backward(params, result))
            except Exception:
                log.exception("pipeline: backward of %s failed; going on", action.name)
