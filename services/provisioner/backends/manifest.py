"""Procfile and tsuru.yaml: what an app declares about itself (pure parsing).

tsuru 1.11 reads the first of ``tsuru.yml``, ``tsuru.yaml``, ``app.yml``, ``app.yaml``
(builder/docker) and the ``Procfile`` with the line rule ``^([A-Za-z0-9_-]+):\\s*(.+)$``
(app/version). Both files are read before any build hook runs, from the unpacked
archive only, and bounded in size: a hook runs as the app user and could swap them for
links to files the builder may read.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from services.provisioner.backends.base import BuildError, Healthcheck, Hooks

PROCFILE = "Procfile"
TSURU_YAML_NAMES = ("tsuru.yml", "tsuru.yaml", "app.yml", "app.yaml")
MAX_MANIFEST_BYTES = 256 << 10
# Aliases let a small YAML expand into a huge tree (a "billion laughs"): bounded.
MAX_YAML_NODES = 20_000

_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


@dataclass(frozen=True)
class Manifest:
    processes: Mapping[str, str] = field(default_factory=dict)
    hooks: Hooks = field(default_factory=Hooks)
    healthcheck: Healthcheck = field(default_factory=Healthcheck)
    custom_data: Mapping[str, object] = field(default_factory=dict)
    tsuru_yaml: str = ""  # the file name read ("" when none)


def parse_procfile(text: str) -> dict[str, str]:
    """Process name -> command, in file order; a repeated name keeps its last command."""
    processes: dict[str, str] = {}
    for line in text.split("\n"):
        found = _PROCFILE_LINE.match(line.rstrip("\r"))
        if found:
            processes[found.group(1)] = found.group(2).strip()
    return processes


def _jsonable(value: Any, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise BuildError("invalid tsuru.yaml: the document is too large once expanded")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, budget) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v, budget) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _commands(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise BuildError(f"invalid tsuru.yaml: {where} must be a list of commands")


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BuildError(f"invalid tsuru.yaml: {key} must be a mapping")
    return value


def _int(value: Any, where: str, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise BuildError(f"invalid tsuru.yaml: {where} must be an integer")
    return value


def _str(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BuildError(f"invalid tsuru.yaml: {where} must be a string")
    return value


def parse_tsuru_yaml(text: str) -> tuple[Hooks, Healthcheck, dict[str, object]]:
    """(hooks, healthcheck, the document as JSON-safe data); BuildError when invalid."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BuildError(f"invalid tsuru.yaml: {exc}") from exc
    except RecursionError:
        raise BuildError("invalid tsuru.yaml: the document is nested too deeply") from None
    if loaded is None:
        return Hooks(), Healthcheck(), {}
    if not isinstance(loaded, Mapping):
        raise BuildError("invalid tsuru.yaml: the document must be a mapping")
    try:
        data: dict[str, object] = _jsonable(loaded, [MAX_YAML_NODES])
    except RecursionError:
        raise BuildError("invalid tsuru.yaml: the document is nested too deeply") from None
    hooks_data = _section(data, "hooks")
    restart = _section(hooks_data, "restart")
    hooks = Hooks(
        build=_commands(hooks_data.get("build"), "hooks.build"),
        restart_before=_commands(restart.get("before"), "hooks.restart.before"),
        restart_after=_commands(restart.get("after"), "hooks.restart.after"),
    )
    hc = _section(data, "healthcheck")
    headers = _section(hc, "headers")
    match = _str(hc.get("match"), "healthcheck.match")
    if match:
        try:
            re.compile(match)
        except re.error as exc:
            raise BuildError(f"invalid tsuru.yaml: healthcheck.match: {exc}") from exc
    timeout = _int(hc.get("timeout_seconds"), "healthcheck.timeout_seconds")
    use_in_router = hc.get("use_in_router", False)
    if not isinstance(use_in_router, bool):
        raise BuildError("invalid tsuru.yaml: healthcheck.use_in_router must be a boolean")
    healthcheck = Healthcheck(
        path=_str(hc.get("path"), "healthcheck.path").strip(),
        method=(_str(hc.get("method"), "healthcheck.method") or "GET").upper(),
        # tsuru 1.11: no status and no match means 200; a match alone accepts any status.
        status=_int(hc.get("status"), "healthcheck.status", 0 if match else 200),
        match=match,
        allowed_failures=_int(hc.get("allowed_failures"), "healthcheck.allowed_failures"),
        use_in_router=use_in_router,
        timeout_seconds=float(timeout) if timeout > 0 else Healthcheck.timeout_seconds,
        scheme=_str(hc.get("scheme"), "healthcheck.scheme") or "http",
        headers={str(k): str(v) for k, v in headers.items()},
        interval_seconds=_int(hc.get("interval_seconds"), "healthcheck.interval_seconds"),
        deploy_timeout_seconds=_int(
            hc.get("deploy_timeout_seconds"), "healthcheck.deploy_timeout_seconds"
        ),
    )
    return hooks, healthcheck, data


def _read_inside(root: Path, name: str) -> str | None:
    """The text of ``root/name`` if it is a regular file inside ``root``; None if absent."""
    path = root / name
    if not os.path.lexists(path):
        return None
    real = os.path.realpath(path)
    top = os.path.realpath(root)
    if not real.startswith(top + os.sep) or not os.path.isfile(real):
        raise BuildError(f"{name} must be a regular file of the app")
    if os.path.getsize(real) > MAX_MANIFEST_BYTES:
        raise BuildError(f"{name} is too large (more than {MAX_MANIFEST_BYTES >> 10} KiB)")
    with open(real, "rb") as f:
        return f.read(MAX_MANIFEST_BYTES + 1).decode("utf-8", "replace")


def read_manifest(app_dir: str | os.PathLike[str]) -> Manifest:
    """Procfile and tsuru.yaml of an unpacked app (absent files give empty values)."""
    root = Path(app_dir)
    procfile = _read_inside(root, PROCFILE)
    processes = parse_procfile(procfile) if procfile is not None else {}
    for name in TSURU_YAML_NAMES:
        text = _read_inside(root, name)
        if text is not None:
            hooks, healthcheck, data = parse_tsuru_yaml(text)
            return Manifest(processes, hooks, healthcheck, data, name)
    return Manifest(processes)
