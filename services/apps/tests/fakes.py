"""The apps bundle on fakes, and fakes of the other contexts it talks to.

The peers' fakes follow the seams of docs/runtime.md (placement, units, commands,
app tokens, quota, binds).
"""

from __future__ import annotations

import hashlib
import queue
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.apps.adapters.archives import ArchiveSpool
from services.apps.adapters.event_log import StorageEventLog
from services.apps.domain.errors import QuotaExceeded
from services.apps.operations.deps import AppUnits, Config, Deps, Placement, Reply
from services.apps.storage.memory import memory_stores
from shared.errors import Invalid, NotFound
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder

# The unit statuses the provisioner knows (tsuru's), as the unit agent may report them.
UNIT_STATUSES = ("created", "building", "starting", "started", "error", "stopped", "asleep")

SMALL_PLAN = {"name": "small", "memory": 268435456, "swap": 0, "cpumilli": 0, "cpushare": 100,
              "default": True}  # fmt: skip


@dataclass
class SentCommand:
    command: str
    app: dict[str, Any]
    args: dict[str, Any]
    event: str


@dataclass
class FakeProvisioner:
    """A provisioner world: pools, plans and routers placement resolves against,
    the units of each app, and the commands it was sent (each answers ``replies``)."""

    pools: list[str] = field(default_factory=lambda: ["default"])
    plans: dict[str, dict[str, Any]] = field(default_factory=lambda: {"small": dict(SMALL_PLAN)})
    routers: list[str] = field(default_factory=lambda: ["tsubame"])
    platforms: list[str] = field(default_factory=lambda: ["python"])
    units_by_app: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sent: list[SentCommand] = field(default_factory=list)
    units_calls: list[list[str]] = field(default_factory=list)
    statuses: list[tuple[str, str, str]] = field(default_factory=list)
    registered: list[tuple[str, str, Any]] = field(default_factory=list)
    command_error: str = ""
    command_status: int | None = None  # the final reply's status of a refusal
    autoscales: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    known_units: set[str] = field(default_factory=set)  # what node status finds
    shells: list[tuple[str, Any]] = field(default_factory=list)
    shell_output: bytes = b"$ "
    # Adopts and finishes the events handed over with commands, as the worker does.
    recorder: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def placement(self, request: dict[str, Any]) -> Placement:
        pool = request.get("pool") or self.pools[0]
        if pool not in self.pools:
            raise Invalid("Pool does not exist.")
        plan_name = request.get("plan") or next(iter(self.plans))
        if plan_name not in self.plans:
            raise Invalid("plan not found")
        router = request.get("router") or ""
        if router and router != "none" and router not in self.routers:
            raise Invalid(f'router "{router}" not found')
        routers = []
        if router != "none":
            routers = [{"name": router or self.routers[0], "opts": request.get("routeropts") or {}}]
        platform, _, version = str(request.get("platform") or "").partition(":")
        if platform and platform not in self.platforms:
            raise Invalid("Invalid platform")
        return Placement(
            pool=pool,
            provisioner="process",
            cluster="",
            plan=dict(self.plans[plan_name]),
            routers=routers,
            platform=platform,
            platform_version=version,
        )

    def units(self, apps: list[str]) -> dict[str, AppUnits]:
        with self.lock:
            self.units_calls.append(list(apps))
        return {a: AppUnits(units=list(self.units_by_app.get(a, []))) for a in apps}

    def command(
        self, command: str, app: dict[str, Any], args: dict[str, Any], *, event: str = ""
    ) -> Iterator[Reply]:
        with self.lock:
            self.sent.append(SentCommand(command, app, args, event))
        adopted = self.recorder.adopt(event) if event and self.recorder is not None else None
        message = f"{command} {app['name']}\n"
        if adopted is not None:
            adopted.log(message)
        yield {"message": message}
        error, status = self.command_error, self.command_status
        if not error:
            error, refused = self.apply(command, app["name"], args)
            status = refused if error else status
        final: dict[str, Any] = {"final": True, "error": error}
        final["result"] = {} if error else self.result(command, app, args)
        if status is not None:
            final["status"] = status
        if adopted is not None:
            image = final["result"].get("image", "")
            adopted.done(error or None, {"image": image} if image else None)
        yield final

    def apply(self, command: str, app: str, args: dict[str, Any]) -> tuple[str, int | None]:
        """What a command does to the app's units, as the provisioner does it; a refusal
        is tsuru's text and its status."""
        with self.lock:
            units = self.units_by_app.setdefault(app, [])
            process = str(args.get("process") or "web")
            if command == "deploy" and not args.get("build_only"):
                version = args.get("version", 0)
                if not units:
                    units.append(self.new_unit(app, "web", version))
                for unit in units:
                    unit["Version"] = version
            elif command == "units.add":
                version = args.get("version") or max(
                    (u.get("Version", 0) for u in units), default=0
                )
                units.extend(self.new_unit(app, process, version) for _ in range(int(args["n"])))
            elif command == "units.remove":
                mine = [u for u in units if u.get("ProcessName", "web") == process]
                n = int(args["n"])
                if n > len(mine):
                    text = f'cannot remove {n} units from process "{process}", only {len(mine)} available'
                    return text, 400
                for unit in mine[:n]:
                    units.remove(unit)
            elif command == "remove":
                self.units_by_app.pop(app, None)
        return "", None

    def new_unit(self, app: str, process: str, version: Any) -> dict[str, Any]:
        unit_id = f"{app}-{process}-{version}-{secrets.token_hex(4)}"
        self.known_units.add(unit_id)
        return {"ID": unit_id, "Name": unit_id, "AppName": app, "ProcessName": process,
                "Version": version, "Status": "started", "Routable": True}  # fmt: skip

    def _unit(self, app: str, unit: str) -> None:
        """tsuru finds a unit by a prefix of its id."""
        if not any(str(u.get("ID", "")).startswith(unit) for u in self.units_by_app.get(app, [])):
            raise NotFound(f'unit "{unit}" not found')

    def result(self, command: str, app: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        """What the provisioner answers (docs/runtime.md): a deploy's image and processes."""
        if command != "deploy":
            return {}
        version = args.get("version", 0)
        tag = args.get("tag") or f"v{version}"
        return {
            "version": version,
            "image": f"tsubame/app-{app['name']}:{tag}",
            "processes": {"web": "python3 app.py"},
            "custom_data": {"healthcheck": {"path": "/healthcheck"}},
        }

    def autoscale(self, app: str) -> list[dict[str, Any]]:
        return list(self.autoscales.get(app, []))

    def set_autoscale(
        self, app: str, spec: dict[str, Any], quota_limit: int, plan: dict[str, Any]
    ) -> None:
        if int(spec.get("minUnits") or 0) < 1:
            raise Invalid("unable to validate autoscale spec: minimum units must be greater than 0")
        with self.lock:
            specs = [s for s in self.autoscales.get(app, []) if s["process"] != spec["process"]]
            self.autoscales[app] = [*specs, dict(spec)]

    def remove_autoscale(self, app: str, process: str) -> None:
        with self.lock:
            self.autoscales[app] = [
                s for s in self.autoscales.get(app, []) if s["process"] != process
            ]

    def node_status(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"ID": u.get("ID", ""), "Found": u.get("ID") in self.known_units}
            for u in report.get("Units") or []
        ]

    def shell(self, app: str, opts: Any) -> FakeShell:
        channel = FakeShell(self.shell_output)
        self.shells.append((app, opts))
        return channel

    def unit_status(self, app: str, unit: str, status: str) -> None:
        self._unit(app, unit)
        if status not in UNIT_STATUSES:
            raise Invalid("invalid status")
        self.statuses.append((app, unit, status))

    def register_unit(self, app: str, unit: str, custom_data: Any) -> None:
        self._unit(app, unit)
        self.registered.append((app, unit, custom_data))


class FakeShell:
    """A shell that echoes what it is sent, after a prompt; ``exit`` ends it."""

    def __init__(self, prompt: bytes) -> None:
        self.received = bytearray()
        self._out: queue.Queue[bytes] = queue.Queue()
        self._out.put(prompt)
        self.closed = False

    def send(self, data: bytes) -> None:
        self.received += data
        if b"exit" in data:
            self._out.put(b"")
        else:
            self._out.put(b"echo: " + data)

    def recv(self) -> bytes:
        return self._out.get()

    def close(self) -> None:
        self.closed = True
        self._out.put(b"")


@dataclass
class FakeAuth:
    teams: list[str] = field(default_factory=lambda: ["blue"])
    user_limits: dict[str, int] = field(default_factory=dict)
    inuse: dict[str, int] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app_token(self, app: str) -> str:
        return hashlib.sha256(f"app-token:{app}".encode()).hexdigest()

    def revoke_app_token(self, app: str) -> None:
        self.revoked.append(app)

    def reserve_app(self, user: str, team: str) -> None:
        with self.lock:
            limit = self.user_limits.get(user, -1)
            if limit > -1 and self.inuse.get(user, 0) >= limit:
                raise QuotaExceeded()
            self.inuse[user] = self.inuse.get(user, 0) + 1

    def release_app(self, user: str, team: str) -> None:
        with self.lock:
            self.inuse[user] = max(self.inuse.get(user, 0) - 1, 0)

    def team_exists(self, team: str) -> bool:
        return team in self.teams

    def team_names(self) -> list[str]:
        return list(self.teams)


@dataclass
class FakeCatalog:
    bound: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def binds(self, app: str) -> list[dict[str, str]]:
        return list(self.bound.get(app, []))


def fake_deps(config: Config | None = None) -> Deps:
    recorder = FakeRecorder()
    return Deps(
        stores=memory_stores(),
        recorder=recorder,
        publisher=RecordingPublisher(),
        provisioner=FakeProvisioner(recorder=recorder),
        auth=FakeAuth(),
        catalog=FakeCatalog(),
        # Real files (the spool is only files), in a folder made on the first upload.
        archives=ArchiveSpool(
            Path(tempfile.gettempdir(), f"tsubame-test-archives-{secrets.token_hex(6)}")
        ),
        event_log=StorageEventLog(recorder.memory),
        config=config or Config(),
    )
