"""The provisioner backend interface: what every way of running units offers.

The provisioner context (its worker) owns desired state and decides *what* runs
where; a backend only knows *how*: build a release from an archive, start and stop
units on a node, tell which units it really runs, run one-off commands. Every
backend (``process``: local processes, the embedded default; ``docker``: containers
on Docker-API engines) passes the same contract tests
(``services/provisioner/backends/tests/contract.py``).

Rules every backend keeps:

* Units never run as root and never see another app's files.
* ``units()`` reports what really runs, also after the provisioner worker itself was
  restarted (units outlive the worker; the worker re-adopts them): it is the
  reconciler's only source of truth about reality.
* A unit that crashes is restarted by the backend with backoff (its ``restarts``
  grows, its status is ``error`` while it is down); one that is stopped on purpose
  stays stopped.
* Every line a unit writes on stdout/stderr reaches the ``LogSink`` given at
  construction, tagged with the unit.
* Calls are thread-safe; slow ones (build, exec) honour their ``cancel`` event.

What a unit is, for every backend:

* It runs ``/bin/sh -c '<restart_before hooks joined by " && "> && exec <command>'`` in
  its release directory, so the ``restart.before`` hooks of tsuru.yaml run each time the
  unit (re)starts, as tsuru's units do; ``restart.after`` hooks are the provisioner's to
  run (``exec`` beside each new unit). A non-login shell: a login shell's profile would
  reset ``PATH``. tsuru's ``exec`` prefix breaks compound commands (``cd x && run``, a
  loop): those run without it (``process.unitenv.shell_command``, shared by the backends).
* Its environment is ``UnitSpec.env`` plus ``PORT`` (the port it must listen on),
  ``HOSTNAME`` (the unit id, as a container's hostname), ``HOME`` and a ``PATH`` that
  starts with the release's own tools (a python platform's virtualenv).
* Status: ``starting`` until it is ready, then ``started``; ready means the port accepts
  TCP connections for the app's web process (``web_process``), and running for the
  others. The HTTP healthcheck of tsuru.yaml is the provisioner's (it has the address).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

# tsuru's unit statuses (provisioning.md §4.1), the only values a unit reports.
CREATED = "created"
BUILDING = "building"
STARTING = "starting"
STARTED = "started"
ERROR = "error"
STOPPED = "stopped"
ASLEEP = "asleep"
STATUSES = (CREATED, BUILDING, STARTING, STARTED, ERROR, STOPPED, ASLEEP)


class BackendError(Exception):
    """A backend operation failed; the message is shown to the user as is."""


class BuildError(BackendError):
    """The archive could not be turned into a release (bad archive, failed hook...)."""


class Canceled(BackendError):
    """The operation stopped because its ``cancel`` event was set."""


# tsuru's name for the process that receives HTTP traffic.
WEB_PROCESS = "web"


def web_process(processes: Mapping[str, str]) -> str | None:
    """The process that gets the app's traffic: ``web``, else the only one (tsuru's rule)."""
    if WEB_PROCESS in processes:
        return WEB_PROCESS
    if len(processes) == 1:
        return next(iter(processes))
    return None


# (stream text) -> None: build/exec output, written as it comes (may hold partial lines).
Output = Callable[[str], None]


@dataclass(frozen=True)
class LogLine:
    """One line a unit wrote (without its trailing newline)."""

    app: str
    unit: str  # UnitSpec.id
    process: str
    source: str  # the process name for unit output, as tsuru's log source
    message: str
    date: datetime


# Receives unit output; must not block for long (the backend calls it from its readers).
LogSink = Callable[[LogLine], None]


@dataclass(frozen=True)
class Limits:
    """A plan's resources, applied to every unit (0 = no limit)."""

    memory: int = 0  # bytes, a hard limit
    swap: int = 0  # bytes
    cpu_milli: int = 0  # thousandths of one CPU
    cpushare: int = 0  # tsuru's legacy relative weight (100 = one share)


@dataclass(frozen=True)
class Mount:
    """A volume bound to the app: a host directory seen at ``mountpoint`` by its units."""

    source: str  # host path (process) or volume name (docker), made by the provisioner
    mountpoint: str  # absolute path as the app sees it
    readonly: bool = False


@dataclass(frozen=True)
class Healthcheck:
    """``healthcheck`` of tsuru.yaml (empty path: only "the port accepts connections")."""

    path: str = ""
    method: str = "GET"
    # tsuru 1.11: 200 unless ``match`` is given, then 0 (any status).
    status: int = 200
    match: str = ""  # regular expression the body must match (tsuru adds "(?s)")
    allowed_failures: int = 0
    use_in_router: bool = False
    timeout_seconds: float = 60.0  # one request
    scheme: str = "http"
    headers: Mapping[str, str] = field(default_factory=dict)
    interval_seconds: int = 0  # 0: the provisioner's default
    deploy_timeout_seconds: int = 0  # how long a deploy waits for it (0: the default)


@dataclass(frozen=True)
class Hooks:
    """``hooks`` of tsuru.yaml: build commands and restart before/after commands."""

    build: tuple[str, ...] = ()
    restart_before: tuple[str, ...] = ()
    restart_after: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildRequest:
    app: str
    version: int  # the app version this build becomes (1, 2, ...)
    platform: str  # platform name (python, static, ...); the backend prepares for it
    platform_image: str  # the platform's current image reference ("" when none is built)
    archive_path: str  # a local .tar.gz already fetched and size-checked by the caller
    env: Mapping[str, str]  # the app's env (hooks see it)
    # The node the build runs on (docker: engine address; process: its only node).
    node: str = ""


@dataclass(frozen=True)
class Release:
    """A built app version, ready to start units from."""

    app: str
    version: int
    image: str  # backend reference: a release directory (process) or an image tag (docker)
    processes: Mapping[str, str]  # Procfile: process name -> command, in file order
    hooks: Hooks = field(default_factory=Hooks)
    healthcheck: Healthcheck = field(default_factory=Healthcheck)
    # tsuru.yaml as read (kept for ``customData`` of the version, shown by tsuru)
    custom_data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitSpec:
    """Everything needed to start one unit; ``id`` is chosen by the provisioner."""

    id: str  # stable and unique: "<app>-<process>-<version>-<random>"
    app: str
    process: str
    version: int
    release: Release
    command: str  # the process's command line (run with /bin/sh -c)
    env: Mapping[str, str]  # the app's environment (PORT, HOSTNAME, HOME are added)
    limits: Limits = field(default_factory=Limits)
    mounts: Sequence[Mount] = ()
    node: str = ""  # where to run it (a NodeInfo.address)
    # The pool's docker log driver and its options ("": the engine's default).
    log_driver: str = ""
    log_opts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitState:
    """A unit as the backend observes it."""

    id: str
    app: str
    process: str
    version: int
    node: str
    status: str  # one of STATUSES
    # host:port where the unit's PORT is reachable from the gateway ("" while none)
    address: str
    restarts: int = 0
    created_at: datetime | None = None
    status_detail: str = ""  # why it is in error, last exit code ...


@dataclass(frozen=True)
class NodeInfo:
    address: str  # process: "local://<hostname>"; docker: the engine URL
    pool: str = ""
    status: str = "ready"
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecRequest:
    """``tsuru app-run``: a command in a unit's environment."""

    app: str
    command: str
    env: Mapping[str, str]
    release: Release
    unit: str = ""  # run beside this unit (its release, env, mounts); "" = isolated
    limits: Limits = field(default_factory=Limits)
    mounts: Sequence[Mount] = ()
    node: str = ""
    timeout: float = 3600.0


@runtime_checkable
class Backend(Protocol):
    name: str  # "process" | "docker"

    def nodes(self) -> list[NodeInfo]:
        """The nodes this backend can place units on, with their health."""
        ...

    def build(
        self, req: BuildRequest, output: Output, cancel: threading.Event | None = None
    ) -> Release:
        """Unpack (safely) and prepare the archive; run build hooks; read Procfile and
        tsuru.yaml. Raises BuildError (message for the user) or Canceled."""
        ...

    def start_unit(self, spec: UnitSpec) -> UnitState:
        """Start the unit (idempotent for an id that already runs: its state is returned
        unchanged); returns at once, status ``starting``. A stopped unit of that id is
        started again from ``spec``, keeping its address and restart count when it can.
        The unit gets PORT and listens on it. Raises BackendError when the release is
        unknown."""
        ...

    def stop_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        """Stop it (SIGTERM, then SIGKILL after ``timeout``); it stays known as
        ``stopped`` until removed. Unknown ids are ignored."""
        ...

    def remove_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        """Stop it and forget it (its files, its log reader). Unknown ids are ignored."""
        ...

    def units(self, app: str | None = None) -> list[UnitState]:
        """Every unit this backend knows (of one app), as really observed now."""
        ...

    def exec(self, req: ExecRequest, output: Output, cancel: threading.Event | None = None) -> int:
        """Run a command and return its exit status; output streamed to ``output``.
        Beside ``req.unit`` (its release, home, mounts and limits) or, when it is "",
        in a fresh isolated unit that is removed afterwards. Raises BackendError when the
        unit is unknown or ``req.timeout`` passes, Canceled when ``cancel`` is set (the
        command is killed in both cases)."""
        ...

    def remove_release(self, app: str, version: int) -> None:
        """Delete a release (files or image); BackendError while a known unit uses it.
        Unknown releases are ignored."""
        ...

    def remove_app(self, app: str) -> None:
        """Remove every unit, release and file of the app."""
        ...

    def close(self) -> None:
        """Stop background readers (units keep running; a new instance re-adopts them)."""
        ...
