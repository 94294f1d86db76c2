"""The live instance registry of a local stack (docs/contracts.md "Instance registry").

The launcher (scripts/stack.py) owns the processes, so it knows at once which service
instance is up, restarting or about to stop: it writes that knowledge to one JSON file,
``TSUBAME_INSTANCES_FILE``, replaced atomically at every change. The gateway (and any
process that calls a service) reads it instead of the boot-time ``TSUBAME_<CTX>_URLS``.
Readers acknowledge the generation they applied in ``<file>.acks/<pid>``, so the
launcher can wait until no gateway worker will open a new request to an instance
before it stops that instance (drain).

States of an instance:

* ``up``: send requests to it;
* ``draining``: about to stop; finish what is in flight, send nothing new;
* ``down``: died, the launcher is restarting it; try it only if no instance is up.

Without the file (docker compose, a hand-made deployment) readers use the URLs of
the environment, resolving host names to all their addresses (gateway/discovery.py).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

UP = "up"
DRAINING = "draining"
DOWN = "down"
STATES = (UP, DRAINING, DOWN)
# Bounds on what a reader accepts from the file (it is ours, but a reader must not
# be taken down by a truncated or hand-edited one).
MAX_BYTES = 1 << 20
MAX_INSTANCES = 256


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class InstanceRecord:
    name: str  # the launcher's process name ("auth-2")
    url: str  # base URL, http://host:port
    state: str = UP


@dataclass(frozen=True)
class Registry:
    generation: int
    services: Mapping[str, tuple[InstanceRecord, ...]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "generation": self.generation,
                "services": {
                    ctx: [{"name": r.name, "url": r.url, "state": r.state} for r in records]
                    for ctx, records in self.services.items()
                },
            },
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Registry:
        try:
            data = json.loads(text)
            generation = data["generation"]
            raw = data["services"]
        except (ValueError, TypeError, KeyError) as exc:
            raise RegistryError(f"unreadable instance registry: {exc!r}") from None
        if not isinstance(generation, int) or not isinstance(raw, dict):
            raise RegistryError("unreadable instance registry: bad types")
        services: dict[str, tuple[InstanceRecord, ...]] = {}
        for ctx, items in raw.items():
            if not isinstance(items, list) or len(items) > MAX_INSTANCES:
                raise RegistryError(f"unreadable instance registry: bad list for {ctx!r}")
            records = []
            for item in items:
                try:
                    record = InstanceRecord(str(item["name"]), str(item["url"]), item["state"])
                except (TypeError, KeyError) as exc:
                    raise RegistryError(f"unreadable instance registry: {exc!r}") from None
                if record.state not in STATES:
                    raise RegistryError(f"unknown instance state {record.state!r}")
                records.append(record)
            services[str(ctx)] = tuple(records)
        return cls(generation, services)


def write(path: Path, registry: Registry) -> None:
    """Replace the file atomically: a reader sees the old or the new set, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(registry.to_json() + "\n")
    os.replace(tmp, path)


def read(path: Path) -> Registry | None:
    """The registry, or None when there is no file yet; RegistryError when unreadable."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RegistryError(f"cannot read {path}: {exc}") from None
    if len(data) > MAX_BYTES:
        raise RegistryError(f"{path} is larger than {MAX_BYTES} bytes")
    return Registry.from_json(data.decode("utf-8", "replace"))


def acks_dir(path: Path) -> Path:
    return path.with_name(path.name + ".acks")


def ack(path: Path, generation: int, pid: int | None = None) -> None:
    """Record that process ``pid`` (default: this one) applies ``generation`` (-1: loading)."""
    directory = acks_dir(path)
    directory.mkdir(parents=True, exist_ok=True)
    pid = os.getpid() if pid is None else pid
    tmp = directory / f".{pid}.tmp"
    tmp.write_text(str(generation))
    os.replace(tmp, directory / str(pid))


def read_acks(path: Path) -> dict[int, int]:
    """{pid: generation} of every reader that acknowledged something."""
    found: dict[int, int] = {}
    try:
        entries = list(acks_dir(path).iterdir())
    except OSError:
        return found
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            found[int(entry.name)] = int(entry.read_text().strip() or "-1")
        except (OSError, ValueError):
            found[int(entry.name)] = -1  # being replaced right now: not applied yet
    return found


def drop_ack(path: Path, pid: int) -> None:
    try:
        (acks_dir(path) / str(pid)).unlink()
    except OSError:
        pass


class LiveUrls:
    """The base URLs to call one service at now: its ``up`` instances in the registry
    (its ``down`` ones when none is up), else ``fallback`` (the boot-time URLs).

    Cheap to call per request: the file is read again only when it changed (one
    ``stat``). An unreadable file keeps the last set.
    """

    def __init__(self, path: str | Path | None, context: str, fallback: Sequence[str]) -> None:
        self._path = Path(path) if path else None
        self._context = context
        self._fallback = tuple(fallback)
        self._current = self._fallback
        self._seen: tuple[int, int, int] | None = None
        self._read_at = -1e9

    def __call__(self) -> tuple[str, ...]:
        if self._path is None:
            return self._fallback
        try:
            st = os.stat(self._path)
        except OSError:
            return self._current
        identity = (st.st_ino, st.st_mtime_ns, st.st_size)
        now = time.monotonic()
        # Read again after a second anyway: two rewrites within one timestamp tick may
        # leave (inode, mtime, size) as they were.
        if identity != self._seen or now - self._read_at >= 1.0:
            self._seen, self._read_at = identity, now
            try:
                found = read(self._path)
            except RegistryError as exc:
                log.error("%s", exc)
                return self._current
            records = found.services.get(self._context) if found else None
            if records is not None:
                up = tuple(r.url for r in records if r.state == UP)
                self._current = up or tuple(r.url for r in records if r.state == DOWN)
        return self._current
