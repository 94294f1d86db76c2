"""exec(): ``tsuru app-run`` as the app user, beside a unit or in a fresh isolated one;
and the same two ways of placing a command for an interactive shell (shell.py).

Beside a unit, the command sees what the unit sees (release, HOME, private /tmp,
volumes, PORT) and joins its cgroups, so it shares the unit's memory limit as a
``docker exec`` would. Isolated, it gets a temporary unit directory and cgroup with
the request's limits and volumes, removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from services.provisioner.backends.base import STOPPED, BackendError, ExecRequest, Output
from services.provisioner.backends.process import cgroups, commands, unitfs
from services.provisioner.backends.process.build import discard
from services.provisioner.backends.process.layout import check_name
from services.provisioner.backends.process.unitenv import check_env, unit_env, volume_binds
from services.provisioner.backends.process.units import runner_alive

if TYPE_CHECKING:
    from services.provisioner.backends.process.backend import ProcessBackend

# (sandbox configuration, what kills what the command left in its cgroup)
Placed = tuple[dict[str, Any], Callable[[], None]]


def run_exec(
    backend: ProcessBackend, req: ExecRequest, output: Output, cancel: threading.Event | None
) -> int:
    with placed(backend, req, ["/bin/sh", "-c", req.command]) as (cfg, kill_rest):
        return commands.run(
            cfg, output, cancel=cancel, timeout=req.timeout, what="the command", kill_rest=kill_rest
        )


@contextlib.contextmanager
def placed(backend: ProcessBackend, req: ExecRequest, argv: list[str]) -> Iterator[Placed]:
    """Where ``argv`` runs for ``req``: beside its unit, or in an isolated one made for
    it and removed when the block ends."""
    check_name("app", req.app)
    check_env(req.env)
    if req.unit:
        yield _beside(backend, req, argv), lambda: None
        return
    with _isolated(backend, req, argv) as made:
        yield made


def _beside(backend: ProcessBackend, req: ExecRequest, argv: list[str]) -> dict[str, Any]:
    spec = backend.unit_spec(req.unit)
    if spec is None or spec.get("app") != req.app:
        raise BackendError(f"unit {req.unit} not found")
    state = unitfs.read_json(str(backend.layout.unit_dir(req.unit) / unitfs.STATE)) or {}
    if not runner_alive(state) or state.get("status") == STOPPED:
        raise BackendError(f"unit {req.unit} is not running")
    release_dir = os.path.dirname(spec["cwd"])
    env = unit_env(
        req.env,
        release_dir,
        spec["home"],
        spec["tmp"],
        req.unit,
        private_tmp=bool(spec["namespace"]),
    )
    env["PORT"] = str(state.get("port") or "")
    procs = cgroups.existing(spec["scope"], req.unit) if backend.layout.as_root else []
    return _cfg(spec, argv, env, procs)


@contextlib.contextmanager
def _isolated(backend: ProcessBackend, req: ExecRequest, argv: list[str]) -> Iterator[Placed]:
    layout = backend.layout
    release_dir = backend.release_path(req.release, req.app)
    owner = layout.owner(req.app)
    # The pid lets a later backend sweep it when we die before cleaning up.
    name = f"exec-{os.getpid()}-{secrets.token_hex(6)}"
    directory = layout.units / f".{name}"
    layout.make_dir(directory, owner, 0o750 if owner else 0o700, group_only=True)
    try:
        home, tmp = directory / unitfs.HOME, directory / unitfs.TMP
        layout.make_dir(home, owner, 0o700, group_only=False)
        layout.make_dir(tmp, owner, 0o700, group_only=False)
        env = unit_env(req.env, release_dir, str(home), str(tmp), name, private_tmp=layout.as_root)
        limits = {
            "memory": req.limits.memory,
            "swap": req.limits.swap,
            "cpu_milli": req.limits.cpu_milli,
            "cpushare": req.limits.cpushare,
        }
        procs = cgroups.procs_files(cgroups.create(layout.scope, name, limits)) if owner else []
        spec = {
            "cwd": os.path.join(release_dir, "app"),
            "uid": owner[0] if owner else None,
            "gid": owner[1] if owner else None,
            "root": backend.config.root,
            "tmp": str(tmp),
            "binds": volume_binds(req.mounts, str(home), namespace=layout.as_root),
            "namespace": layout.as_root,
            "limits": limits,
        }
        yield (
            _cfg(spec, argv, env, procs),
            lambda: cgroups.kill(layout.scope, name) if owner else None,
        )
    finally:
        if owner:
            cgroups.remove(layout.scope, name)
        discard(directory)


def _cfg(
    spec: dict[str, Any], argv: list[str], env: dict[str, str], procs: list[str]
) -> dict[str, Any]:
    memory_limited = any("/memory/" in p for p in procs)
    return {
        "argv": argv,
        "env": env,
        "cwd": spec["cwd"],
        "uid": spec.get("uid"),
        "gid": spec.get("gid"),
        "root": spec["root"],
        "tmp": spec.get("tmp"),
        "binds": spec.get("binds", []),
        "namespace": bool(spec.get("namespace")),
        "cgroups": procs,
        "rlimit_as": 0 if memory_limited else int((spec.get("limits") or {}).get("memory") or 0),
    }
