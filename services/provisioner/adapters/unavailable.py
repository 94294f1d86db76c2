"""A backend that cannot run anything, standing in for one that failed to start (its
root unusable): the worker keeps serving, and every command that needs units fails with
the reason, instead of the whole stack refusing to start."""

from __future__ import annotations

import threading

from services.provisioner.backends.base import (
    BackendError,
    BuildRequest,
    ExecRequest,
    NodeInfo,
    Output,
    Release,
    UnitSpec,
    UnitState,
)


class UnavailableBackend:
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def _fail(self) -> BackendError:
        return BackendError(f"the {self.name} backend is unavailable: {self.reason}")

    def nodes(self) -> list[NodeInfo]:
        return []

    def build(
        self, req: BuildRequest, output: Output, cancel: threading.Event | None = None
    ) -> Release:
        raise self._fail()

    def start_unit(self, spec: UnitSpec) -> UnitState:
        raise self._fail()

    def stop_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        raise self._fail()

    def remove_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        raise self._fail()

    def units(self, app: str | None = None) -> list[UnitState]:
        raise self._fail()

    def exec(self, req: ExecRequest, output: Output, cancel: threading.Event | None = None) -> int:
        raise self._fail()

    def remove_release(self, app: str, version: int) -> None:
        raise self._fail()

    def remove_app(self, app: str) -> None:
        raise self._fail()

    def close(self) -> None:
        return None
