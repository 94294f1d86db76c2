"""One Backend over the backends of every provisioner the stack runs (``process``,
``docker``): the runtime speaks to this one and it passes each call to the backend that
owns the node or the unit.

The runtime decides where things run (operations/runtime/scheduler.py): a unit of an app
in a docker pool gets a docker node's address, one of a process pool gets none (the
process backend has one node, this machine). So:

* ``start_unit``, ``build`` and isolated ``exec`` go by the node they name;
* ``stop_unit``, ``remove_unit`` and ``exec`` beside a unit go to the backend that
  reported or started that unit (every backend when none did: unknown ids are ignored);
* ``units``, ``nodes`` are the union; ``remove_release``/``remove_app`` go to every one.

A member that cannot work (UnavailableBackend: the process backend's root unusable) must
not stop the others: a call that goes to every member skips the members that fail with a
BackendError (their reason logged, kept in ``unavailable``) and fails only when every
member failed. Its units are then absent from ``units()`` (docs/runtime.md "Backends").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from services.provisioner.backends.base import (
    Backend,
    BackendError,
    BuildRequest,
    ExecRequest,
    NodeInfo,
    Output,
    Release,
    UnitSpec,
    UnitState,
)

log = logging.getLogger(__name__)

PROCESS = "process"
# The process backend's one node is named local://<hostname> (process/config.py).
LOCAL_NODE_SCHEME = "local://"


class Backends:
    name = "backends"

    def __init__(self, members: Mapping[str, Backend]) -> None:
        if not members:
            raise BackendError("no backend configured")
        self.members = dict(members)
        self._where: dict[str, str] = {}  # unit id -> the member that runs it
        self._lock = threading.Lock()
        self.unavailable: dict[str, str] = {}  # member -> why its last call failed

    def _each(self, members: Mapping[str, Backend], call: Callable[[str, Backend], None]) -> None:
        """``call`` on every member; BackendErrors of some are logged, of all raised."""
        errors: list[BackendError] = []
        for member, backend in members.items():
            try:
                call(member, backend)
            except BackendError as exc:
                if self.unavailable.get(member) != str(exc):
                    log.warning("backend %s failed, the others go on: %s", member, exc)
                self.unavailable[member] = str(exc)
                errors.append(exc)
                continue
            self.unavailable.pop(member, None)
        if errors and len(errors) == len(members):
            raise errors[0]

    # -- who owns what -----------------------------------------------------------------

    def member_of_node(self, node: str) -> str:
        """The provisioner that owns ``node`` (``""``: the process backend's only node)."""
        if not node or node.startswith(LOCAL_NODE_SCHEME):
            if PROCESS in self.members:
                return PROCESS
            raise BackendError("no node chosen for the unit and no process backend")
        others = [name for name in self.members if name != PROCESS]
        if not others:
            raise BackendError(f"no backend runs node {node!r}")
        return others[0]

    def provisioner_of_node(self, node: str) -> str:
        return self.member_of_node(node)

    def _by_node(self, node: str) -> Backend:
        return self.members[self.member_of_node(node)]

    def _remember(self, states: list[UnitState], member: str) -> None:
        with self._lock:
            for state in states:
                self._where[state.id] = member

    def _owners(self, unit_id: str) -> dict[str, Backend]:
        with self._lock:
            known = self._where.get(unit_id)
        if known is not None:
            return {known: self.members[known]}
        return dict(self.members)

    # -- Backend protocol --------------------------------------------------------------

    def nodes(self) -> list[NodeInfo]:
        found: list[NodeInfo] = []
        self._each(self.members, lambda _, backend: found.extend(backend.nodes()))
        return found

    def build(
        self, req: BuildRequest, output: Output, cancel: threading.Event | None = None
    ) -> Release:
        return self._by_node(req.node).build(req, output, cancel)

    def start_unit(self, spec: UnitSpec) -> UnitState:
        member = self.member_of_node(spec.node)
        state = self.members[member].start_unit(spec)
        self._remember([state], member)
        return state

    def stop_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        self._each(
            self._owners(unit_id), lambda _, backend: backend.stop_unit(unit_id, timeout=timeout)
        )

    def remove_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        self._each(
            self._owners(unit_id),
            lambda _, backend: backend.remove_unit(unit_id, timeout=timeout),
        )
        with self._lock:
            self._where.pop(unit_id, None)

    def units(self, app: str | None = None) -> list[UnitState]:
        states: list[UnitState] = []

        def listed(member: str, backend: Backend) -> None:
            mine = backend.units(app)
            self._remember(mine, member)
            states.extend(mine)

        self._each(self.members, listed)
        return sorted(states, key=lambda s: (s.app, s.process, s.id))

    def exec(self, req: ExecRequest, output: Output, cancel: threading.Event | None = None) -> int:
        if req.unit:
            with self._lock:
                known = self._where.get(req.unit)
            if known is None:
                self.units(req.app)
                with self._lock:
                    known = self._where.get(req.unit)
            if known is None:
                raise BackendError(f"unit {req.unit!r} not found")
            return self.members[known].exec(req, output, cancel)
        return self._by_node(req.node).exec(req, output, cancel)

    def remove_release(self, app: str, version: int) -> None:
        self._each(self.members, lambda _, backend: backend.remove_release(app, version))

    def remove_app(self, app: str) -> None:
        self._each(self.members, lambda _, backend: backend.remove_app(app))

    def close(self) -> None:
        for backend in self.members.values():
            backend.close()
