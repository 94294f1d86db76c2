"""The ``process`` backend: app units as supervised local processes.

See base.py for the promises and layout.py / unitfs.py for the files. This class
holds no state a crash could lose: every unit lives in its directory and under its
own runner, so a new instance (after the provisioner worker was killed) knows all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from services.provisioner.backends.base import (
    BackendError,
    BuildRequest,
    ExecRequest,
    LogSink,
    NodeInfo,
    Output,
    Release,
    UnitSpec,
    UnitState,
    web_process,
)
from services.provisioner.backends.process import cgroups, launch, unitfs
from services.provisioner.backends.process.build import RELEASE_JSON, Builder, discard
from services.provisioner.backends.process.config import ProcessConfig
from services.provisioner.backends.process.execute import run_exec
from services.provisioner.backends.process.layout import Layout, Owner, check_name
from services.provisioner.backends.process.logreader import LogForwarder
from services.provisioner.backends.process.unitenv import (
    check_env,
    nice_for,
    shell_command,
    unit_env,
    volume_binds,
)
from services.provisioner.backends.process.units import (
    UnitMeta,
    finish_stop,
    kill_leftovers,
    meta_of,
    observe,
    request_stop,
    runner_alive,
)


class ProcessBackend:
    name = "process"

    def __init__(
        self, config: ProcessConfig, log_sink: LogSink, *, forward_logs: bool = True
    ) -> None:
        self.config = config
        self.layout = Layout(config.root, config.uid_range)
        self.layout.ensure_root()
        self._builder = Builder(config, self.layout)
        self._sweep()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._meta: dict[str, tuple[int, UnitMeta]] = {}
        self._forwarder = LogForwarder(self.layout, log_sink)
        self._forwarding = forward_logs
        if forward_logs:
            self._forwarder.start()

    # -- helpers ---------------------------------------------------------------------

    def _sweep(self) -> None:
        """Remove what a killed backend left half-deleted (``.trash-*``) and the
        temporary units of isolated commands whose backend process is gone."""
        candidates = list(self.layout.units.glob(".trash-*"))
        candidates += list(self.layout.apps.glob("*/releases/.trash-*"))
        for path in self.layout.units.glob(".exec-*"):
            if not _owner_alive(path.name[1:]):
                candidates.append(path)
        for path in candidates:
            shutil.rmtree(path, ignore_errors=True)
        if self.layout.as_root:
            # Groups of builds and isolated runs whose backend died (-9) mid-way: what
            # ran in them (a daemonized hook) ends here.
            for group in cgroups.groups(self.layout.scope):
                if group.startswith(("build-", "exec-")) and not _owner_alive(group):
                    cgroups.remove(self.layout.scope, group)

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def _state(self, unit: str) -> dict[str, Any]:
        return unitfs.read_json(str(self.layout.unit_dir(unit) / unitfs.STATE)) or {}

    def _unit_meta(self, unit: str) -> UnitMeta | None:
        path = self.layout.unit_dir(unit) / unitfs.SPEC
        try:
            stamp = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return None
        cached = self._meta.get(unit)
        if cached and cached[0] == stamp:
            return cached[1]
        spec = unitfs.read_json(str(path))
        if spec is None:
            return None
        meta = meta_of(spec)
        self._meta[unit] = (stamp, meta)
        return meta

    def _observe(self, unit: str) -> UnitState | None:
        meta = self._unit_meta(unit)
        return None if meta is None else observe(meta, self._state(unit))

    def release_path(self, release: Release, app: str) -> str:
        """The release directory of a Release this backend built for ``app``."""
        expected = self.layout.release_dir(app, release.version)
        if release.app != app or os.path.realpath(release.image) != os.path.realpath(expected):
            raise BackendError(f"release {release.image!r} does not belong to app {app!r}")
        if not (expected / RELEASE_JSON).is_file():
            raise BackendError(f"version {release.version} of app {app!r} is not built")
        return str(expected)

    def _unit_dirs(self, unit: str, owner: Owner | None) -> tuple[str, str, str]:
        directory = self.layout.unit_dir(unit)
        self.layout.make_dir(directory, owner, 0o750 if owner else 0o700, group_only=True)
        home, tmp = directory / unitfs.HOME, directory / unitfs.TMP
        self.layout.make_dir(home, owner, 0o700, group_only=False)
        self.layout.make_dir(tmp, owner, 0o700, group_only=False)
        return str(directory), str(home), str(tmp)

    # -- Backend ---------------------------------------------------------------------

    def nodes(self) -> list[NodeInfo]:
        status = "ready" if self.layout.units.is_dir() else "error"
        return [NodeInfo(address=self.config.node, status=status, metadata={"backend": "process"})]

    def build(
        self, req: BuildRequest, output: Output, cancel: threading.Event | None = None
    ) -> Release:
        with self._locked(f"release:{req.app}:{req.version}"):
            return self._builder.build(req, output, cancel)

    def start_unit(self, spec: UnitSpec) -> UnitState:
        check_name("unit", spec.id)
        check_name("app", spec.app)
        check_name("process", spec.process)
        with self._locked(spec.id):
            current = self._observe(spec.id)
            state = self._state(spec.id)
            if current is not None and runner_alive(state):
                return current
            release_dir = self.release_path(spec.release, spec.app)
            check_env(spec.env)
            if state:
                kill_leftovers(self.layout, spec.id, state)  # of a runner that died
            owner = self.layout.owner(spec.app)
            directory, home, tmp = self._unit_dirs(spec.id, owner)
            hooks = spec.release.hooks.restart_before
            command = " && ".join([*hooks, shell_command(spec.command)])
            previous = unitfs.read_json(os.path.join(directory, unitfs.SPEC)) or {}
            document = {
                "id": spec.id,
                "app": spec.app,
                "process": spec.process,
                "version": spec.version,
                "node": spec.node or self.config.node,
                "command": command,
                "env": unit_env(
                    spec.env, release_dir, home, tmp, spec.id, private_tmp=self.layout.as_root
                ),
                "cwd": os.path.join(release_dir, "app"),
                "uid": owner[0] if owner else None,
                "gid": owner[1] if owner else None,
                "root": self.config.root,
                "scope": self.layout.scope,
                "home": home,
                "tmp": tmp,
                "binds": volume_binds(spec.mounts, home, namespace=self.layout.as_root),
                "namespace": self.layout.as_root,
                "limits": {
                    "memory": spec.limits.memory,
                    "swap": spec.limits.swap,
                    "cpu_milli": spec.limits.cpu_milli,
                    "cpushare": spec.limits.cpushare,
                },
                "nice": nice_for(spec.limits.cpushare),
                "ready": "port"
                if spec.process == web_process(spec.release.processes)
                else "running",
                "log_max_bytes": self.config.log_max_bytes,
                "backoff_max": self.config.backoff_max,
                "created_at": previous.get("created_at") or datetime.now(UTC).isoformat(),
            }
            unitfs.write_json(os.path.join(directory, unitfs.SPEC), document, 0o600)
            if self._forwarding:
                self._forwarder.claim(spec.id)  # the starter forwards its unit's lines
            try:
                launch.start_runner(directory)
            except (RuntimeError, OSError) as exc:
                # Another backend sharing the root started it a moment before us.
                adopted = self._wait_runner(spec.id) if "already running" in str(exc) else None
                if adopted is None:
                    raise BackendError(f"could not start unit {spec.id}: {exc}") from exc
                return adopted
            observed = self._observe(spec.id)
            assert observed is not None
            return observed

    def _wait_runner(self, unit: str, timeout: float = 5.0) -> UnitState | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if runner_alive(self._state(unit)):
                return self._observe(unit)
            time.sleep(0.02)
        return None

    def stop_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        check_name("unit", unit_id)
        with self._locked(unit_id):
            directory = self.layout.unit_dir(unit_id)
            if not directory.is_dir():
                return
            state = self._state(unit_id)
            request_stop(directory, state, timeout)
            finish_stop(self.layout, unit_id, state, time.monotonic() + timeout + 2)

    def remove_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        check_name("unit", unit_id)
        self.stop_unit(unit_id, timeout=timeout)
        with self._locked(unit_id):
            directory = self.layout.unit_dir(unit_id)
            if not directory.is_dir():
                return
            self._forwarder.flush(unit_id)  # the unit's last words reach the sink first
            if self.layout.as_root:
                cgroups.remove(self.layout.scope, unit_id)
            discard(directory)
            self._forwarder.forget(unit_id)
            self._meta.pop(unit_id, None)

    def units(self, app: str | None = None) -> list[UnitState]:
        found: list[UnitState] = []
        for unit in self.layout.unit_ids():
            meta = self._unit_meta(unit)
            if meta is None or (app is not None and meta.app != app):
                continue
            found.append(observe(meta, self._state(unit)))
        return found

    def exec(self, req: ExecRequest, output: Output, cancel: threading.Event | None = None) -> int:
        return run_exec(self, req, output, cancel)

    def remove_release(self, app: str, version: int) -> None:
        release_dir = self.layout.release_dir(app, version)
        with self._locked(f"release:{app}:{version}"):
            users = [u.id for u in self.units(app) if u.version == version]
            if users:
                raise BackendError(
                    f"version {version} of app {app!r} is still used by units: {', '.join(users)}"
                )
            discard(release_dir)

    def remove_app(self, app: str) -> None:
        check_name("app", app)
        for unit in self.units(app):
            self.remove_unit(unit.id)
        discard(self.layout.app_dir(app))
        self.layout.forget_owner(app)

    def close(self) -> None:
        self._forwarder.close()

    # -- for exec --------------------------------------------------------------------

    def unit_spec(self, unit_id: str) -> dict[str, Any] | None:
        check_name("unit", unit_id)
        return unitfs.read_json(str(self.layout.unit_dir(unit_id) / unitfs.SPEC))


def _owner_alive(name: str) -> bool:
    """``<kind>-<pid>-<random>``: is the backend process that made it still running?"""
    parts = name.split("-")
    return len(parts) > 2 and parts[1].isdigit() and unitfs.proc_start(int(parts[1])) is not None
