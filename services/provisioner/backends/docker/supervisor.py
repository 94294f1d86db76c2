"""What a backend instance knows of each unit, and the watcher that keeps crashed units up.

The engines hold the truth (containers, their labels and names: containers.py); the
store (store.py) holds what the Docker API does not keep, shared by the instances of this
host: restart counts, log positions, and which instance owns each unit. This table adds
what is per instance: the owner lock it holds, the crash back-off, whether the web
process accepts connections yet, and the log follower of each unit it owns.

A watcher thread per node lists the node's unit containers every ``poll_interval``. The
owner of a container that exited without being stopped on purpose starts it again after
0.5 s, 1 s, 2 s ... (up to ``backoff_max``; a unit that ran that long before crashing
starts over from 0.5 s) and counts the restart. Engine restart policies are not used:
podman's restarts a crashing unit many times a second, with no back-off.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.provisioner.backends.base import ERROR, BackendError, UnitState
from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.errors import API_ERRORS
from services.provisioner.backends.docker.logs import LogFollower
from services.provisioner.backends.docker.store import UnitStore

log = logging.getLogger(__name__)


@dataclass
class Tracked:
    unit: str
    node: str
    container: str
    app: str
    process: str
    web: bool
    owner_fd: int | None = None  # the owner lock, when this instance owns the unit
    restarts: int = 0
    ready: bool = False
    streak: int = 0  # crashes in a row that came soon after a start
    started_at: float = 0.0  # monotonic time of the last start seen
    retry_at: float | None = None  # when a crashed unit is started again
    port: int | None = None  # the published port, as last seen
    last_exit: str = ""  # how its last run ended ("exited with status 3")
    follower: LogFollower | None = None
    saved: dict[str, Any] | None = None  # the log position last written to the store
    last: UnitState | None = None  # as last observed (reported while its node is down)


def port_accepts(address: str, timeout: float = 0.3) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


class Supervisor:
    def __init__(
        self,
        namespace: str,
        store: UnitStore,
        client: Callable[[str], Any],  # node -> DockerClient
        reach_host: Callable[[str], str],
        new_follower: Callable[[Tracked, dict[str, Any] | None], LogFollower],
        backoff_max: float,
    ) -> None:
        self.namespace = namespace
        self.store = store
        self._client = client
        self._reach_host = reach_host
        self._new_follower = new_follower
        self._backoff_max = backoff_max
        self.lock = threading.RLock()
        self.units: dict[str, Tracked] = {}
        # Units a start, stop, removal or crash restart of this instance is changing:
        # the watcher neither adopts, restarts nor forgets them meanwhile.
        self.claimed: set[str] = set()
        # Told when a node's listing fails (its cached health is then wrong).
        self.on_unreachable: Callable[[str], None] | None = None

    # -- observation -------------------------------------------------------------------

    def look(self, node: str) -> list[UnitState]:
        """List the node's units now; adopt, own, restart and follow what is due."""
        listed_at = time.monotonic()
        try:
            entries = self._client(node).api.containers(
                all=True, filters={"label": ct.label_filter(self.namespace, "unit")}
            )
        except (*API_ERRORS, BackendError) as exc:
            if self.on_unreachable is not None:
                self.on_unreachable(node)
            return self.unreachable(node, exc)
        seen: set[str] = set()
        states = []
        restart: list[Tracked] = []
        for entry in entries:
            unit = str((entry.get("Labels") or {}).get(ct.UNIT, ""))
            if not unit or unit in seen:
                continue
            seen.add(unit)
            with self.lock:
                claimed = unit in self.claimed
                tracked = self.units.get(unit)
            if claimed:
                states.append(self._as_listed(node, entry, tracked))
                continue
            tracked = self._track(node, unit, entry)
            with self.lock:
                if not ct.is_running(entry):
                    tracked.ready = False
                if self._crashed(tracked, entry, listed_at):
                    restart.append(tracked)
            states.append(self._state(tracked, entry))
        with self.lock:
            gone = [
                unit
                for unit, tracked in self.units.items()
                if tracked.node == node and unit not in seen and unit not in self.claimed
            ]
            for unit in gone:
                self._drop(unit)
        for tracked in restart:
            self._restart(tracked)
        return states

    def _as_listed(self, node: str, entry: Mapping[str, Any], tracked: Tracked | None) -> UnitState:
        """A claimed unit as listed, leaving alone what its claimant is changing."""
        same = tracked is not None and tracked.container == entry.get("Id")
        # How its last run ended, as _state says it: a unit listed running again while a
        # crash restart finishes is no unit without a story (it was reported so).
        last_exit = tracked.last_exit if tracked is not None else ""
        return ct.state_of(
            entry,
            node=node,
            reach_host=self._reach_host(node),
            ready=bool(same and tracked and tracked.ready),
            restarts=tracked.restarts if tracked else 0,
            detail=f"last run {last_exit}" if last_exit else "",
        )

    def _track(self, node: str, unit: str, entry: Mapping[str, Any]) -> Tracked:
        tags = entry.get("Labels") or {}
        container = str(entry.get("Id"))
        with self.lock:
            tracked = self.units.get(unit)
            if tracked is None or tracked.container != container:
                owner_fd = None
                if tracked is not None:  # replaced behind our back: follow the new one
                    owner_fd, tracked.owner_fd = tracked.owner_fd, None
                    self._drop(unit)
                tracked = Tracked(
                    unit=unit,
                    node=node,
                    container=container,
                    app=str(tags.get(ct.APP, "")),
                    process=str(tags.get(ct.PROCESS, "")),
                    web=tags.get(ct.WEB) == "1",
                    owner_fd=owner_fd,
                    started_at=time.monotonic(),
                )
                self.units[unit] = tracked
            if tracked.owner_fd is None:
                tracked.owner_fd = self.store.acquire(unit)
            record = self.store.read(unit)
            tracked.restarts = int(record.get("restarts") or 0)
            tracked.last_exit = str(record.get("last_exit") or tracked.last_exit)
            if tracked.owner_fd is not None:
                self._checkpoint(tracked)
                if tracked.follower is None:
                    position = record.get("log") if isinstance(record.get("log"), dict) else None
                    tracked.follower = self._new_follower(tracked, position)
                    tracked.follower.start()
        return tracked

    def own(self, tracked: Tracked, owner_fd: int | None) -> None:
        """Register a unit this instance just created (owned when ``owner_fd``)."""
        with self.lock:
            old = self.units.get(tracked.unit)
            if old is not None and old is not tracked:
                if owner_fd is None:
                    owner_fd, old.owner_fd = old.owner_fd, None
                self._drop(tracked.unit)
            tracked.owner_fd = owner_fd
            self.units[tracked.unit] = tracked
            if owner_fd is not None:
                self.store.write(tracked.unit, {"restarts": tracked.restarts})
                tracked.follower = self._new_follower(tracked, None)
                tracked.follower.start()

    def _checkpoint(self, tracked: Tracked) -> None:
        """Save how far the owner's follower got (when it moved)."""
        if tracked.follower is None:
            return
        position = tracked.follower.position()
        if position != tracked.saved:
            self.store.update(tracked.unit, log=position)
            tracked.saved = position

    def _state(self, tracked: Tracked, entry: Mapping[str, Any]) -> UnitState:
        host = self._reach_host(tracked.node)
        tracked.port = ct.host_port(entry) or tracked.port
        if ct.is_running(entry) and not tracked.ready:
            if not tracked.web:
                tracked.ready = True
            else:
                port = ct.host_port(entry)
                tracked.ready = bool(port) and port_accepts(f"{host}:{port}")
        detail = f"last run {tracked.last_exit}" if tracked.last_exit else ""
        retry_at = tracked.retry_at
        if retry_at is not None:
            wait = max(0.0, retry_at - time.monotonic())
            detail = f"{ct.exit_detail(entry)}; restarting in {wait:.1f}s"
        state = ct.state_of(
            entry,
            node=tracked.node,
            reach_host=host,
            ready=tracked.ready,
            restarts=tracked.restarts,
            detail=detail,
        )
        tracked.last = state
        return state

    def unreachable(self, node: str, exc: BaseException | str) -> list[UnitState]:
        detail = f"node {node} does not answer: {exc}"[:500]
        with self.lock:
            last = [t.last for t in self.units.values() if t.node == node and t.last]
        return [
            UnitState(
                id=s.id,
                app=s.app,
                process=s.process,
                version=s.version,
                node=node,
                status=ERROR,
                address=s.address,
                restarts=s.restarts,
                created_at=s.created_at,
                status_detail=detail,
            )
            for s in last
        ]

    # -- crash restarts ----------------------------------------------------------------

    def _crashed(self, tracked: Tracked, entry: Mapping[str, Any], listed_at: float) -> bool:
        """Whether to start this exited unit now (decided under the lock: once)."""
        if ct.is_running(entry) or ct.marked_stopped(entry) or tracked.owner_fd is None:
            tracked.retry_at = None
            return False
        # Looks of one node run at once (the watcher's, a caller's units()): the exit this
        # listing shows may be one another look is restarting now, or restarted after the
        # listing was asked for. Starting it again counted one crash as two restarts.
        if tracked.unit in self.claimed or listed_at < tracked.started_at:
            return False
        if str(entry.get("State")) in ("created", "configured", "removing", "paused"):
            return False
        now = time.monotonic()
        if tracked.retry_at is None:
            ran = now - tracked.started_at
            tracked.streak = 0 if ran >= self._backoff_max else tracked.streak + 1
            delay = min(0.5 * 2 ** max(tracked.streak - 1, 0), self._backoff_max)
            tracked.retry_at = now + delay
            tracked.last_exit = ct.exit_detail(entry)
            log.info(
                "unit %s exited (%s): restart in %.1fs", tracked.unit, entry.get("Status"), delay
            )
        if now < tracked.retry_at:
            return False
        self.claimed.add(tracked.unit)
        return True

    def _restart(self, tracked: Tracked) -> None:
        try:
            self._client(tracked.node).api.start(tracked.container)
            with self.lock:
                tracked.restarts += 1
                tracked.started_at = time.monotonic()
                tracked.retry_at = None
                self.store.update(
                    tracked.unit, restarts=tracked.restarts, last_exit=tracked.last_exit
                )
        except API_ERRORS as exc:
            log.warning("could not restart unit %s: %s", tracked.unit, exc)
            with self.lock:
                tracked.retry_at = None  # tried again after the next back-off
        finally:
            with self.lock:
                self.claimed.discard(tracked.unit)
        if tracked.follower is not None:
            tracked.follower.wake()

    # -- bookkeeping -------------------------------------------------------------------

    def detach_owner(self, unit: str) -> int | None:
        """Take the unit's owner lock out of the table (kept across a re-creation)."""
        with self.lock:
            tracked = self.units.get(unit)
            if tracked is None or tracked.owner_fd is None:
                return None
            if tracked.follower is not None:
                self._checkpoint(tracked)
                tracked.follower.stop()
                tracked.follower = None
            fd, tracked.owner_fd = tracked.owner_fd, None
            return fd

    def claim(self, unit: str) -> bool:
        """Take the unit from the watcher; False while a crash restart holds it."""
        with self.lock:
            if unit in self.claimed:
                return False
            self.claimed.add(unit)
            return True

    def unclaim(self, unit: str) -> None:
        with self.lock:
            self.claimed.discard(unit)

    def _drop(self, unit: str) -> None:
        tracked = self.units.pop(unit, None)
        if tracked is None:
            return
        if tracked.follower is not None:
            if tracked.owner_fd is not None:
                self._checkpoint(tracked)
            tracked.follower.stop()
            tracked.follower = None
        if tracked.owner_fd is not None:
            self.store.release(tracked.owner_fd)
            tracked.owner_fd = None

    def forget(self, unit: str, *, removed: bool = False) -> None:
        """Stop tracking the unit; ``removed``: it is gone for good (its record too)."""
        with self.lock:
            self._drop(unit)
            if removed:
                self.store.discard(unit)

    def close(self) -> None:
        with self.lock:
            followers = [t.follower for t in self.units.values() if t.follower is not None]
            for unit in list(self.units):
                self._drop(unit)
        for follower in followers:
            follower.join(2.0)


class Watcher:
    """One thread per node: ``supervisor.look(node)`` every ``interval`` seconds."""

    def __init__(self, supervisor: Supervisor, node: str, interval: float) -> None:
        self._supervisor = supervisor
        self._node = node
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"watch-{node}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._supervisor.look(self._node)
            except Exception:  # one bad listing must not end the supervision
                log.exception("watching node %s failed", self._node)
