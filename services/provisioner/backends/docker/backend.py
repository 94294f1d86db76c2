"""The ``docker`` backend: units as containers on Docker-API engines (tsuru's docker provisioner).

Nodes are engine addresses given by a callable (the provisioner registers them through
the API). A release is an image per app version, built on the node the provisioner
names and copied to other nodes when a unit needs it there. Units are containers
labelled with their namespace, app, process, version and id; the engines keep them, so a
new backend instance re-adopts every unit from one listing per node (see containers.py
and supervisor.py for what survives where).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import docker
import docker.errors

from services.provisioner.backends.base import (
    ERROR,
    STARTING,
    STOPPED,
    BackendError,
    BuildRequest,
    Canceled,
    ExecRequest,
    LogSink,
    NodeInfo,
    Output,
    Release,
    UnitSpec,
    UnitState,
)
from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.build import Builder
from services.provisioner.backends.docker.config import DockerConfig
from services.provisioner.backends.docker.errors import API_ERRORS, reason
from services.provisioner.backends.docker.execute import run_beside, run_isolated
from services.provisioner.backends.docker.leftovers import remove_app_objects, remove_own_images
from services.provisioner.backends.docker.logs import LogFollower
from services.provisioner.backends.docker.nodecontainers import NodeContainers
from services.provisioner.backends.docker.nodes import (
    NodeClients,
    Nodes,
    NodeUnreachable,
    publish_host,
)
from services.provisioner.backends.docker.platforms import PlatformImages
from services.provisioner.backends.docker.store import UnitStore
from services.provisioner.backends.docker.supervisor import Supervisor, Tracked, Watcher
from services.provisioner.backends.docker.volumes import ensure_volumes, mount_args
from services.provisioner.backends.process.unitenv import check_env


class DockerBackend:
    name = "docker"

    def __init__(self, config: DockerConfig, nodes: Nodes, log_sink: LogSink) -> None:
        self.config = config
        self.clients = NodeClients(nodes, config.api_timeout, config.node_check_interval)
        self._sink = log_sink
        self._builder = Builder(config, self.clients)
        self.supervisor = Supervisor(
            config.namespace,
            UnitStore(config.state_dir),
            self.clients.client,
            lambda node: publish_host(node)[1],
            self._follower,
            config.backoff_max,
        )
        self.supervisor.on_unreachable = self.clients.mark_error
        # Platform images and node containers on the nodes (ports of the runtime).
        self.platform_images = PlatformImages(config, self.clients)
        self.node_containers = NodeContainers(config.namespace, self.clients)
        self._watchers: dict[str, Watcher] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._closed = False
        self._sync_watchers()

    # -- helpers -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield

    @contextlib.contextmanager
    def _claimed(self, unit: str) -> Iterator[Tracked | None]:
        """The unit's lock, its container (adopted first when this backend is new) and
        the watcher kept off it meanwhile (waiting for a crash restart under way)."""
        with self._locked(unit):
            tracked = self._find(unit)
            while not self.supervisor.claim(unit):
                time.sleep(0.05)
            try:
                with self.supervisor.lock:
                    tracked = self.supervisor.units.get(unit, tracked)
                yield tracked
            finally:
                self.supervisor.unclaim(unit)

    def _sync_watchers(self) -> list[str]:
        """A watcher per current node (nodes come and go through the API)."""
        addresses = self.clients.addresses()
        with self._guard:
            if self._closed:
                return addresses
            for address in addresses:
                if address not in self._watchers:
                    watcher = Watcher(self.supervisor, address, self.config.poll_interval)
                    self._watchers[address] = watcher
                    watcher.start()
            for address in [a for a in self._watchers if a not in addresses]:
                self._watchers.pop(address).stop()
        return addresses

    def _follower(self, tracked: Tracked, position: dict[str, Any] | None) -> LogFollower:
        def running() -> bool | None:
            try:
                found = self.clients.client(tracked.node).api.inspect_container(tracked.container)
            except docker.errors.NotFound:
                return None
            return bool((found.get("State") or {}).get("Running"))

        return LogFollower(
            lambda: self.clients.client(tracked.node, None),
            tracked.container,
            (tracked.app, tracked.unit, tracked.process),
            self._sink,
            position,
            running,
        )

    def _find(self, unit: str) -> Tracked | None:
        """The unit's container, from the table or by asking every node."""
        with self.supervisor.lock:
            tracked = self.supervisor.units.get(unit)
        if tracked is not None:
            return tracked
        for node in self._sync_watchers():
            self.supervisor.look(node)
        with self.supervisor.lock:
            return self.supervisor.units.get(unit)

    # -- nodes -------------------------------------------------------------------------

    @property
    def health(self) -> NodeClients:
        """``health.status(address)``: ``ready`` while the node's engine answers."""
        return self.clients

    # -- Backend protocol --------------------------------------------------------------

    def nodes(self) -> list[NodeInfo]:
        self._sync_watchers()
        return self.clients.nodes()

    def build(
        self, req: BuildRequest, output: Output, cancel: threading.Event | None = None
    ) -> Release:
        with self._locked(f"build:{req.app}:{req.version}"):
            return self._builder.build(req, output, cancel)

    def start_unit(self, spec: UnitSpec) -> UnitState:
        check_env(spec.env)
        self._sync_watchers()
        with self._claimed(spec.id) as tracked:
            restarts, port = 0, None
            owner: list[int | None] = [None]  # the owner lock until the supervisor has it
            if tracked is not None:
                current = self._observe(tracked)
                if current is not None and current.status not in (STOPPED, ERROR):
                    return current
                # Stopped (or crashed): started again from this spec, same port if free,
                # by the same owner (its lock is kept across the new container).
                restarts = tracked.restarts
                port = _port_of(current) or tracked.port
                owner[0] = self.supervisor.detach_owner(spec.id)
            try:
                if tracked is not None:
                    self._remove_container(tracked, timeout=5.0, removed=False)
                if owner[0] is None:
                    # Taken before the container exists: no other instance's watcher can
                    # adopt it first, so the starter forwards the unit's first line.
                    owner[0] = self.supervisor.store.acquire(spec.id)
                node = self.clients.pick(spec.node or (tracked.node if tracked else ""))
                return self._create(spec, node, restarts, port, owner)
            finally:
                if owner[0] is not None:
                    self.supervisor.store.release(owner[0])

    def _create(
        self, spec: UnitSpec, node: str, restarts: int, port: int | None, owner: list[int | None]
    ) -> UnitState:
        """Create and start the unit's container. ``owner[0]`` (the owner lock) goes to
        the supervisor once the container exists; until then it stays the caller's."""
        client = self.clients.client(node)
        bind_ip, _ = publish_host(node)
        volumes = mount_args(spec.mounts, local_node=bind_ip == "127.0.0.1")
        self.clients.ensure_image(node, spec.release.image, self.config.build_timeout)
        ensure_volumes(client, spec, self.config.namespace)
        try:
            image_path = self.clients.image_path(node, spec.release.image)
            args = ct.create_args(
                spec,
                namespace=self.config.namespace,
                bind_ip=bind_ip,
                host_port=port,
                pids_limit=self.config.pids_limit,
                path=ct.unit_path(spec, image_path),
                volumes=volumes,
            )
            try:
                container = ct.create(client, node, args)
            except docker.errors.APIError:
                if port is None:
                    raise
                args["ports"] = {ct.PORT_KEY: (bind_ip, None)}  # the old port is taken
                container = ct.create(client, node, args)
        except API_ERRORS as exc:
            raise BackendError(f"could not create unit {spec.id}: {reason(exc)}") from exc
        tracked = Tracked(
            unit=spec.id,
            node=node,
            container=container.id,
            app=spec.app,
            process=spec.process,
            web=args["labels"][ct.WEB] == "1",
            restarts=restarts,
            started_at=time.monotonic(),
        )
        owner_fd, owner[0] = owner[0], None
        self.supervisor.own(tracked, owner_fd)
        try:
            container.start()
        except API_ERRORS as exc:
            with contextlib.suppress(*API_ERRORS):
                container.remove(force=True)
            self.supervisor.forget(spec.id, removed=True)
            raise BackendError(f"could not start unit {spec.id}: {reason(exc)}") from exc
        state = self._observe(tracked)
        if state is None:
            raise BackendError(f"unit {spec.id} vanished right after its start")
        if state.status == ERROR:  # exited at once: a crash, restarted by the watcher
            return replace(state, status=STARTING)
        return state

    def _observe(self, tracked: Tracked) -> UnitState | None:
        for state in self.supervisor.look(tracked.node):
            if state.id == tracked.unit:
                return state
        return None

    def stop_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        with self._claimed(unit_id) as tracked:
            if tracked is None:
                return
            client = self.clients.client(tracked.node, self.config.api_timeout + timeout)
            try:
                # The durable mark first: a crash between the two steps stays "stopped".
                info = client.api.inspect_container(tracked.container)
                if not str(info.get("Name", "")).lstrip("/").endswith(ct.STOPPED_SUFFIX):
                    client.api.rename(tracked.container, unit_id + ct.STOPPED_SUFFIX)
                client.api.stop(tracked.container, timeout=int(max(timeout, 0)))
            except docker.errors.NotFound:
                self.supervisor.forget(unit_id, removed=True)
            except API_ERRORS as exc:
                raise BackendError(f"could not stop unit {unit_id}: {reason(exc)}") from exc
            finally:
                with self.supervisor.lock:
                    tracked.ready = False
                    tracked.retry_at = None

    def remove_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        with self._claimed(unit_id) as tracked:
            if tracked is not None:
                self._remove_container(tracked, timeout, removed=True)

    def _remove_container(self, tracked: Tracked, timeout: float, *, removed: bool) -> None:
        try:
            client = self.clients.client(tracked.node, self.config.api_timeout + timeout)
            with contextlib.suppress(docker.errors.NotFound):
                client.api.stop(tracked.container, timeout=int(max(timeout, 0)))
            with contextlib.suppress(docker.errors.NotFound):
                client.api.remove_container(tracked.container, force=True)
        except (OSError, NodeUnreachable):
            # The node does not answer (its units were healed elsewhere): forget the unit
            # here; once the node answers again its container is listed as nobody's and
            # removed then.
            self.supervisor.forget(tracked.unit, removed=False)
            return
        except API_ERRORS as exc:
            raise BackendError(f"could not remove unit {tracked.unit}: {reason(exc)}") from exc
        self.supervisor.forget(tracked.unit, removed=removed)

    def units(self, app: str | None = None) -> list[UnitState]:
        states: list[UnitState] = []
        for node in self._sync_watchers():
            if self.clients.health(node) != "ready":
                # A silent node is not listed again (a blackholed one would hold every
                # caller for the API timeout): its units as last seen, in error.
                states += self.supervisor.unreachable(node, "its engine does not answer")
                continue
            states += self.supervisor.look(node)
        if app is not None:
            states = [s for s in states if s.app == app]
        return sorted(states, key=lambda s: (s.app, s.process, s.id))

    def exec(self, req: ExecRequest, output: Output, cancel: threading.Event | None = None) -> int:
        check_env(req.env)
        if req.unit:
            tracked = self._find(req.unit)
            if tracked is None or tracked.app != req.app:
                raise BackendError(f"unit {req.unit!r} not found")
            client = self.clients.client(tracked.node, req.timeout + self.config.api_timeout)
            return run_beside(client, tracked.container, req, output, cancel)
        node = self.clients.pick(req.node)
        self.clients.ensure_image(node, req.release.image, self.config.build_timeout)
        client = self.clients.client(node, req.timeout + self.config.api_timeout)
        local = publish_host(node)[0] == "127.0.0.1"
        return run_isolated(client, req, self.config, output, cancel, local_node=local)

    def cpu_seconds(self, units: Sequence[str]) -> dict[str, float]:
        """CPU seconds each running unit's container used so far, from the engine's
        stats (one-shot: no wait for a second sample); units not running here, or on a
        silent node, are left out."""
        found: dict[str, float] = {}
        for unit in units:
            with self.supervisor.lock:
                tracked = self.supervisor.units.get(unit)
            if tracked is None or self.clients.health(tracked.node) != "ready":
                continue
            try:
                stats = self.clients.client(tracked.node).api.stats(
                    tracked.container, stream=False, one_shot=True
                )
            except (*API_ERRORS, BackendError):
                continue
            used = ((stats or {}).get("cpu_stats") or {}).get("cpu_usage") or {}
            total = used.get("total_usage")
            if isinstance(total, int | float) and total > 0:
                found[unit] = total / 1e9
        return found

    def remove_release(self, app: str, version: int) -> None:
        users = [s.id for s in self.units(app) if s.version == version]
        if users:
            raise BackendError(
                f"version {version} of app {app} is still used by unit(s) {', '.join(users)}"
            )
        names = (self.config.image_name(app, version), self.config.legacy_image_name(app, version))
        for node in self.clients.addresses():
            with contextlib.suppress(*API_ERRORS):
                remove_own_images(self.clients.client(node), self.config.namespace, names)

    def remove_app(self, app: str) -> None:
        for state in self.units(app):
            self.remove_unit(state.id, timeout=5.0)
        errors = []
        for node in self.clients.addresses():
            try:
                remove_app_objects(self.clients.client(node), self.config.namespace, app)
            except API_ERRORS as exc:
                errors.append(f"{node}: {reason(exc)}")
        if errors:
            raise BackendError(f"could not remove everything of app {app}: {'; '.join(errors)}")

    def close(self) -> None:
        with self._guard:
            self._closed = True
            watchers, self._watchers = list(self._watchers.values()), {}
        for watcher in watchers:
            watcher.stop()
        for watcher in watchers:
            watcher.join(5.0)
        self.supervisor.close()
        self.clients.close()


def _port_of(state: UnitState | None) -> int | None:
    if state is None or not state.address:
        return None
    try:
        return int(state.address.rpartition(":")[2])
    except ValueError:
        return None


__all__ = ["Canceled", "DockerBackend"]
