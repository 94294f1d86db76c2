"""Units as containers: the create arguments of a unit and its state from a listing.

Everything the backend needs to know about a unit lives on the engine, so a new backend
instance (after the provisioner worker restarted) re-adopts units from one listing:

* labels (immutable): namespace, kind (``unit``, ``exec``, ``build``), unit id, app,
  process, version, and whether it is the app's web process (its readiness is "the port
  accepts connections");
* the name: ``<unit id>`` while the unit is meant to run, ``<unit id>.stopped`` once it
  was stopped on purpose (a rename is the one durable mark the Docker API allows on an
  existing container), so a crashed unit is told from a stopped one after any restart.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import docker
import docker.errors
from docker.types import LogConfig

from services.provisioner.backends.base import (
    ERROR,
    STARTED,
    STARTING,
    STOPPED,
    BackendError,
    Limits,
    Mount,
    UnitSpec,
    UnitState,
    web_process,
)
from services.provisioner.backends.docker.config import APP_DIR, APP_UID, HOME, UNIT_PORT
from services.provisioner.backends.docker.errors import reason
from services.provisioner.backends.process.unitenv import shell_command

log = logging.getLogger(__name__)

NAMESPACE = "tsubame.namespace"
KIND = "tsubame.kind"
UNIT = "tsubame.unit"
APP = "tsubame.app"
PROCESS = "tsubame.process"
VERSION = "tsubame.version"
WEB = "tsubame.web"
STOPPED_SUFFIX = ".stopped"
PORT_KEY = f"{UNIT_PORT}/tcp"

_VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# Mounting over these would break the unit (or the host view it needs).
_RESERVED_MOUNTPOINTS = ("/proc", "/sys", "/dev")
# Host directories a unit never gets, whatever the provisioner asks.
_HOST_DIRS = (
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/run",
    "/var/run",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
)
_EXITED = re.compile(r"^Exited \((-?\d+)\)")


def labels(namespace: str, kind: str, **extra: str) -> dict[str, str]:
    return {NAMESPACE: namespace, KIND: kind, **extra}


def label_filter(namespace: str, kind: str | None = None, **extra: str) -> list[str]:
    found = [f"{NAMESPACE}={namespace}"]
    if kind:
        found.append(f"{KIND}={kind}")
    found += [f"{key}={value}" for key, value in extra.items()]
    return found


def check_mount(mount: Mount) -> tuple[str, str, bool]:
    """(source, mountpoint, read-only). The source is a named volume of the node or an
    absolute directory on the node's host (made by the provisioner, never by a user)."""
    target = mount.mountpoint.rstrip("/") or "/"
    if (
        not mount.mountpoint.startswith("/")
        or ".." in mount.mountpoint.split("/")
        or target == "/"
        or any(target == r or target.startswith(r + "/") for r in _RESERVED_MOUNTPOINTS)
    ):
        raise BackendError(f"invalid mountpoint: {mount.mountpoint!r}")
    source = mount.source
    if source.startswith("/"):
        parts = source.split("/")
        if (
            ".." in parts
            or source.rstrip("/") == ""
            or any(source.rstrip("/") == h or source.startswith(h + "/") for h in _HOST_DIRS)
        ):
            raise BackendError(f"invalid volume source: {source!r}")
        return source.rstrip("/"), target, mount.readonly
    if not _VOLUME_NAME.match(source):
        raise BackendError(f"invalid volume name: {source!r}")
    return source, target, mount.readonly


def unit_script(spec: UnitSpec) -> str:
    """The restart.before hooks, then the process itself (``exec``'d when simple: it
    gets the signals; the container's init forwards them either way)."""
    steps = [*spec.release.hooks.restart_before, shell_command(spec.command)]
    return " && ".join(steps)


def limit_args(limits: Limits) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if limits.memory > 0:
        args["mem_limit"] = limits.memory
        # Docker's MemorySwap is memory plus swap (tsuru sets it the same way).
        args["memswap_limit"] = limits.memory + max(limits.swap, 0)
    if limits.cpu_milli > 0:
        args["nano_cpus"] = limits.cpu_milli * 1_000_000
    if limits.cpushare >= 2:  # the engine's minimum weight
        args["cpu_shares"] = limits.cpushare
    return args


def unit_env(spec: UnitSpec, path: str) -> dict[str, str]:
    env = dict(spec.env)
    env.update(PORT=str(UNIT_PORT), HOSTNAME=spec.id[:63], HOME=HOME)
    if path:
        env["PATH"] = path
    return env


def unit_path(spec: UnitSpec, image_path: str) -> str:
    """The app's PATH after the release's own tools (a virtualenv) when it sets one; ""
    leaves the image's PATH (which holds those tools already)."""
    given = spec.env.get("PATH", "")
    if not given:
        return ""
    tools = [p for p in image_path.split(":") if p.startswith(HOME + "/")]
    return ":".join([*tools, given])


def security_args(pids_limit: int) -> dict[str, Any]:
    """Never root, no capability, no privilege gain, bounded processes, an init (pid 1
    that forwards signals and reaps orphans)."""
    return {
        "user": f"{APP_UID}:{APP_UID}",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": pids_limit,
        "init": True,
    }


def create_args(
    spec: UnitSpec,
    *,
    namespace: str,
    bind_ip: str,
    host_port: int | None,
    pids_limit: int,
    path: str,
    volumes: dict[str, dict[str, str]],
) -> dict[str, Any]:
    web = web_process(spec.release.processes) == spec.process
    return {
        "image": spec.release.image,
        "command": ["/bin/sh", "-c", unit_script(spec)],
        "name": spec.id,
        "hostname": spec.id[:63],
        "environment": unit_env(spec, path),
        "working_dir": APP_DIR,
        "labels": labels(
            namespace,
            "unit",
            **{
                UNIT: spec.id,
                APP: spec.app,
                PROCESS: spec.process,
                VERSION: str(spec.version),
                WEB: "1" if web else "0",
            },
        ),
        "ports": {PORT_KEY: (bind_ip, host_port)},
        "volumes": volumes,
        **security_args(pids_limit),
        **limit_args(spec.limits),
        **log_args(spec),
    }


def log_args(spec: UnitSpec) -> dict[str, Any]:
    """The pool's log driver (one the engine reads back: the app log comes from it)."""
    if not spec.log_driver:
        return {}
    return {"log_config": LogConfig(type=spec.log_driver, config=dict(spec.log_opts))}


def host_port(entry: Mapping[str, Any]) -> int | None:
    """The published port of a unit from a container listing (None while unpublished)."""
    for port in entry.get("Ports") or ():
        if port.get("PrivatePort") == UNIT_PORT and port.get("PublicPort"):
            return int(port["PublicPort"])
    return None


def marked_stopped(entry: Mapping[str, Any]) -> bool:
    return any(name.lstrip("/").endswith(STOPPED_SUFFIX) for name in entry.get("Names") or ())


def exit_detail(entry: Mapping[str, Any]) -> str:
    found = _EXITED.match(str(entry.get("Status") or ""))
    return f"exited with status {found.group(1)}" if found else str(entry.get("Status") or "")


def is_running(entry: Mapping[str, Any]) -> bool:
    return str(entry.get("State") or "") == "running"


def state_of(
    entry: Mapping[str, Any],
    *,
    node: str,
    reach_host: str,
    ready: bool,
    restarts: int,
    detail: str = "",
) -> UnitState:
    tags = entry.get("Labels") or {}
    port = host_port(entry)
    running = is_running(entry)
    if running:
        status = STARTED if ready else STARTING
    elif marked_stopped(entry):
        status = STOPPED
    elif str(entry.get("State")) in ("created", "configured"):
        status = STARTING  # between create and start
    else:
        status = ERROR
        detail = detail or exit_detail(entry)
    created = entry.get("Created")
    return UnitState(
        id=str(tags.get(UNIT, "")),
        app=str(tags.get(APP, "")),
        process=str(tags.get(PROCESS, "")),
        version=_int(tags.get(VERSION)),
        node=node,
        status=status,
        address=f"{reach_host}:{port}" if port and running else "",
        restarts=restarts,
        created_at=datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None,
        status_detail=detail,
    )


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def create(client: docker.DockerClient, node: str, args: dict[str, Any]) -> Any:
    """The unit's container; with the engine's default log driver when the engine
    refuses the pool's (podman has no ``local``, ``journald`` needs a journal)."""
    try:
        return client.containers.create(**args)
    except docker.errors.APIError as exc:
        config = args.get("log_config")
        if config is None or "log" not in reason(exc).lower():
            raise
        log.warning(
            "node %s refuses log driver %s (%s): unit %s keeps the engine's default",
            node,
            config.type,
            reason(exc),
            args.get("name"),
        )
        return client.containers.create(**{k: v for k, v in args.items() if k != "log_config"})
