"""The local stack: SecantusDB, every service and worker, and the gateway.

Python API (used by the e2e fixture) and CLI (``python -m scripts.stack run``, behind
``make run``). See docs/contracts.md "Processes and ports" for the commands and the
environment each process gets, and "Instance registry" for how the gateway follows
the instances the launcher starts, restarts and stops.
"""

from __future__ import annotations

import http.client
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from scripts.mongo import MongoServer
from scripts.procs import Child, Spawner, free_port, port_open, tail
from scripts.rabbitmq import DEFAULT_AMQP_URL, ensure_rabbitmq
from scripts.scaling import (
    DATABASE,
    GATEWAY,
    SERVICES,
    WORKERS,
    ScaleError,
    check_counts,
    migrate_queued_connections,
    process_name,
    worker_role,
)
from scripts.supervisor import DOWN, DRAINING, NEW, STARTING, STOPPED, UP, Proc, Supervisor
from shared import instances as registry
from shared import logs
from shared.settings import CONTEXTS

REPO_ROOT = Path(__file__).resolve().parent.parent
# `<app>.tsubame.localhost` resolves to 127.0.0.1 with no DNS set-up (RFC 6761).
DEFAULT_APPS_DOMAIN = "tsubame.localhost"
GUNICORN_CONF = REPO_ROOT / "deploy" / "gunicorn.py"

__all__ = ["CONTEXTS", "REPO_ROOT", "ScaleError", "Stack", "StackError"]


class StackError(RuntimeError):
    pass


def _default_namespace(data_dir: str) -> str:
    from shared.settings import default_namespace

    return default_namespace(data_dir)


def _gunicorn() -> list[str]:
    beside = Path(sys.executable).parent / "gunicorn"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "gunicorn"]


def front_enabled(env: Mapping[str, str]) -> bool:
    """TSUBAME_GATEWAY_FRONT: the gateway's asyncio front (gateway/front.py) before its
    gunicorn ("0" leaves it out; off with an access log, which only gunicorn writes)."""
    value = (env.get("TSUBAME_GATEWAY_FRONT") or "1").strip().lower()
    return value not in ("0", "false", "no", "off") and not env.get("TSUBAME_ACCESS_LOG")


def _http_ok(host: str, port: int, path: str, timeout: float = 2.0) -> bool:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def load_or_create_secret(data_dir: Path) -> str:
    """The identity secret of this data directory, made (0600) on first start."""
    path = data_dir / "identity_secret"
    if path.exists():
        secret = path.read_text().strip()
        if len(secret) >= 16:
            return secret
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
    return secret


class Stack:
    """Every process of one Tsubame stack, rooted at ``data_dir``.

    ``port`` is the gateway port (0 or None: a free one). ``env_overrides`` are
    TSUBAME_* values that win over the caller's environment (and over the launcher's
    defaults, except the service URLs, which the launcher owns). ``instances`` maps a
    role (``auth``, ``auth-worker``, ``gateway``; see scripts/scaling.py) to its number
    of instances (default 1 each).

    ``supervise`` (default on): a process that dies is restarted with backoff
    (scripts/supervisor.py). The kill helpers (``kill_service``, ``kill_worker``,
    ``kill_process``) stop a process *on purpose*: it stays down until the matching
    start helper or ``revive()``. A crash is simulated with ``os.kill(pid, SIGKILL)``
    on a pid of ``process_groups()``; the supervisor heals it.

    Any thread may call the methods: children are started from one long-lived spawner
    thread (scripts/procs.py explains why).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        port: int | None = None,
        env_overrides: Mapping[str, str] | None = None,
        instances: Mapping[str, int] | None = None,
        *,
        app_root: str | os.PathLike[str] | None = None,
        supervise: bool = True,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        # app_root: the directory the processes run in (default: this repository);
        # only the launcher's own tests point it at stand-in apps.
        self.app_root = Path(app_root).resolve() if app_root else REPO_ROOT
        self.data_dir = Path(data_dir).resolve()
        self.logs_dir = self.data_dir / "logs"
        self.registry_path = self.data_dir / "run" / "instances.json"
        self._requested_port = port
        self._overrides = dict(env_overrides or {})
        try:
            counts = check_counts(dict(instances or {}))
        except ScaleError as exc:
            raise ValueError(str(exc)) from None
        self._initial = {role: counts.get(role, 1) for role in (*SERVICES, *WORKERS, GATEWAY)}
        self._supervise = supervise
        self._echo = echo
        # TSUBAME_LOG_FORMAT of the stack (checked here: a bad value fails at once).
        self._json_logs = logs.log_format(self._base_env()) == "json"
        self._lock = threading.RLock()
        self._scale_lock = threading.Lock()
        self._procs: dict[str, Proc] = {}
        self._mongo: MongoServer | None = None
        self._spawner: Spawner | None = None
        self.supervisor = Supervisor(self._proc_list, self._lock, self.log, self._changed)
        self._env: dict[str, str] = {}
        self._proc_env: dict[str, str] = {}
        self._gateway_port = 0
        self._gateway_workers = 0
        self._bind = "127.0.0.1"
        self._generation = 0
        self._started = False

    # -- public properties -------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """The TSUBAME_* variables every process gets (valid after start())."""
        return dict(self._env)

    @property
    def url(self) -> str:
        if not self._gateway_port:
            raise StackError("stack not started")
        return f"http://{self._local_host()}:{self._gateway_port}"

    @property
    def port(self) -> int:
        if not self._gateway_port:
            raise StackError("stack not started")
        return self._gateway_port

    @property
    def tls_port(self) -> int:
        """The gateway's TLS port for apps' HTTPS (0: none, TSUBAME_TLS_PORT unset)."""
        return int(self._env.get("TSUBAME_TLS_PORT") or 0)

    @property
    def mongo_url(self) -> str:
        return self._env["TSUBAME_MONGO_URL"]

    @property
    def amqp_url(self) -> str:
        return self._env["TSUBAME_AMQP_URL"]

    @property
    def namespace(self) -> str:
        return self._env["TSUBAME_NAMESPACE"]

    def service_urls(self, ctx: str) -> list[str]:
        """Base URLs of the service's current instances, first instance first."""
        return [p.url for p in self._role(ctx)]

    def process_groups(self) -> dict[str, int]:
        """Process group id (= leader pid) of every process started, by log name."""
        with self._lock:
            return {p.name: p.child.pid for p in self._procs.values() if p.child.pid is not None}

    def counts(self) -> dict[str, int]:
        """Instances of every scalable role."""
        with self._lock:
            found = dict.fromkeys((*SERVICES, *WORKERS, GATEWAY), 0)
            for proc in self._procs.values():
                if proc.role in found:
                    found[proc.role] += 1
            return found

    def processes(self) -> list[dict[str, object]]:
        """Every process: name, role, pid, state, restarts, last exit, url."""
        with self._lock:
            return [
                {
                    "name": p.name,
                    "role": p.role,
                    "pid": p.child.pid,
                    "state": p.state,
                    "running": p.child.running(),
                    "held": p.held,
                    "restarts": p.restarts,
                    "last_exit": p.last_exit,
                    "url": p.url,
                }
                for p in self._procs.values()
            ]

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def log(self, message: str) -> None:
        """A line in ``logs/launcher.log`` (and to ``echo``, e.g. the terminal)."""
        if self._json_logs:
            line = logs.render_line(
                "launcher", message, logger="tsubame.launcher", environ={logs.FORMAT_ENV: "json"}
            )
        else:
            line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}"
        try:
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            with open(self.logs_dir / "launcher.log", "a") as f:
                f.write(line + "\n")
        except OSError:
            pass
        if self._echo is not None:
            self._echo(message)

    # -- lifecycle ---------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        """Start everything; return when all is healthy, else stop all and raise."""
        if self._started:
            raise StackError("stack already started")
        self._started = True
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        if self._supervise:
            self.supervisor.start()

    def stop(self) -> None:
        """Stop the gateway, the workers, the services, then the database."""
        self.supervisor.stop()
        with self._lock:
            procs = list(self._procs.values())
            for proc in procs:
                proc.held = True
        rank = {GATEWAY: 0, **dict.fromkeys(WORKERS, 1), **dict.fromkeys(SERVICES, 2)}
        order = sorted((p for p in procs if p.role != DATABASE), key=lambda p: rank[p.role])
        for proc in order:  # SIGTERM all first, so they wind down in parallel
            proc.child.terminate()
        for proc in order:
            proc.child.stop(grace=10.0)
        self._stop_units()
        if self._mongo:
            self._mongo.stop()
        with self._lock:
            for proc in procs:
                proc.state = STOPPED
        if self._spawner is not None:
            self._spawner.close()
            self._spawner = None
        self._started = False

    def units_root(self) -> Path:
        """Where the process backend keeps this stack's app units."""
        given = self._env.get("TSUBAME_PROCESS_ROOT") or self._base_env().get(
            "TSUBAME_PROCESS_ROOT"
        )
        return Path(given) if given else self.data_dir / "units"

    def _stop_units(self) -> None:
        # App units run under their own runners, in sessions of their own (they outlive
        # a restarted provisioner worker): the stack's end must stop them explicitly.
        from services.provisioner.backends.process.units import stop_all

        stop_all(str(self.units_root()), timeout=10.0)

    def kill_service(self, ctx: str, instance: int | None = None) -> None:
        """SIGKILL one instance (or all instances) of a service; it stays down."""
        self._hold_and_kill(self._select(ctx, instance))

    def start_service(self, ctx: str, instance: int | None = None, timeout: float = 60.0) -> None:
        """Restart the selected instances (on the same ports) and wait until healthy."""
        self._restart(self._select(ctx, instance), timeout)

    def kill_worker(self, ctx: str, instance: int | None = None) -> None:
        self._hold_and_kill(self._select(worker_role(ctx), instance))

    def start_worker(self, ctx: str, instance: int | None = None, timeout: float = 60.0) -> None:
        self._restart(self._select(worker_role(ctx), instance), timeout)

    def kill_process(self, name: str) -> None:
        """SIGKILL any process by its log name (``mongo``, ``gateway``, ``auth-2`` ...);
        it stays down until start_process(name) or revive()."""
        self._hold_and_kill([self._named(name)])

    def start_process(self, name: str, timeout: float = 60.0) -> None:
        self._restart([self._named(name)], timeout)

    def revive(self, timeout: float = 60.0) -> list[str]:
        """Restart every process that is not running; names restarted."""
        with self._lock:
            dead = [p for p in self._procs.values() if p.state != NEW and not p.child.running()]
            dead = [p for p in dead if p.state not in (DRAINING, STOPPED)]
        self._restart(dead, timeout)
        return [p.name for p in dead]

    def dead_processes(self) -> list[str]:
        """Names of started processes that are not running (any more)."""
        with self._lock:
            return [
                p.name
                for p in self._procs.values()
                if p.child.proc is not None and not p.child.running()
            ]

    def service_running(self, ctx: str, instance: int | None = None) -> bool:
        return all(p.child.running() for p in self._select(ctx, instance))

    def worker_running(self, ctx: str, instance: int | None = None) -> bool:
        return all(p.child.running() for p in self._select(worker_role(ctx), instance))

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until every process the supervisor looks after is up (after a crash)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [
                    p.name
                    for p in self._procs.values()
                    if not p.held and (p.state != UP or not p.child.running())
                ]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise StackError(f"not healthy after {timeout:.0f}s: {', '.join(pending)}")
            time.sleep(0.1)

    def scale(self, counts: Mapping[str, int], timeout: float = 120.0) -> dict[str, int]:
        """Start or stop instances so each role named has that many; returns counts().

        New instances join the registry once healthy; removed ones are drained first
        (see _drain). Scale-ups run before scale-downs so capacity never dips.
        """
        from scripts.scaler import scale

        return scale(self, check_counts(dict(counts)), timeout)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ---------------------------------------------------------------

    def _proc_list(self) -> list[Proc]:
        return list(self._procs.values())

    def _role(self, role: str) -> list[Proc]:
        with self._lock:
            return sorted((p for p in self._procs.values() if p.role == role), key=_index)

    def _select(self, role: str, instance: int | None) -> list[Proc]:
        procs = self._role(role)
        if not procs:
            raise KeyError(role)
        return procs if instance is None else [procs[instance]]

    def _named(self, name: str) -> Proc:
        with self._lock:
            return self._procs[name]

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.startswith("TSUBAME_")}
        env.update(self._overrides)
        return env

    def _local_host(self) -> str:
        return "127.0.0.1" if self._bind in ("0.0.0.0", "") else self._bind

    def _hold_and_kill(self, procs: Iterable[Proc]) -> None:
        procs = list(procs)
        with self._lock:
            for proc in procs:
                proc.held = True
        for proc in procs:
            proc.child.kill()
        with self._lock:
            for proc in procs:
                proc.state = DOWN
                proc.restart_at = None
            self._publish()

    def _restart(self, procs: Sequence[Proc], timeout: float) -> None:
        with self._lock:
            todo = [p for p in procs if not p.child.running()]
            for proc in procs:
                proc.held = False
                proc.restart_at = None
            for proc in todo:
                proc.child.reap_group()
                proc.child.start()
                proc.state = STARTING
        self._wait(todo, timeout)
        self._mark_up(todo)

    def _mark_up(self, procs: Iterable[Proc]) -> None:
        """Mark started processes up; return once the gateways know (see scaler)."""
        from scripts.scaler import await_gateways

        procs = list(procs)
        with self._lock:
            for proc in procs:
                if proc.state == STARTING and proc.child.running():
                    proc.state = UP
                    proc.failures = 0
            generation = self._publish()
        if any(p.role in SERVICES for p in procs):
            await_gateways(self, generation)

    def _changed(self, proc: Proc) -> None:
        if proc.role in SERVICES:
            self._publish()

    def _publish(self) -> int:
        """Write the instance registry (under the lock); returns its generation."""
        with self._lock:
            self._generation += 1
            services: dict[str, tuple[registry.InstanceRecord, ...]] = {}
            for ctx in SERVICES:
                records = []
                for proc in self._role(ctx):
                    if proc.state == UP:
                        state = registry.UP
                    elif proc.state == DRAINING:
                        state = registry.DRAINING
                    else:
                        state = registry.DOWN
                    records.append(registry.InstanceRecord(proc.name, proc.url, state))
                services[ctx] = tuple(records)
            registry.write(self.registry_path, registry.Registry(self._generation, services))
            return self._generation

    def _start(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(exist_ok=True)
        env = self._base_env()
        env["TSUBAME_DATA_DIR"] = str(self.data_dir)
        env.setdefault("TSUBAME_NAMESPACE", _default_namespace(str(self.data_dir)))
        if len(env.get("TSUBAME_IDENTITY_SECRET", "")) < 16:
            env["TSUBAME_IDENTITY_SECRET"] = load_or_create_secret(self.data_dir)
        env.setdefault("TSUBAME_AMQP_URL", DEFAULT_AMQP_URL)
        # What the provisioner's process backend and the app router need: where units
        # live (every parent directory o+x: app users traverse it) and the apps' domain.
        env.setdefault("TSUBAME_PROCESS_ROOT", str(self.data_dir / "units"))
        env.setdefault("TSUBAME_APPS_DOMAIN", DEFAULT_APPS_DOMAIN)
        self._bind = env.setdefault("TSUBAME_BIND", "127.0.0.1")
        gw_port = self._requested_port or int(env.get("TSUBAME_PORT") or 0) or free_port(self._bind)
        if port_open(self._local_host(), gw_port):
            raise StackError(f"port {gw_port} is already in use (set TSUBAME_PORT to another)")
        env["TSUBAME_PORT"] = str(gw_port)
        tls_port = int(env.get("TSUBAME_TLS_PORT") or 0)
        if tls_port and port_open(self._local_host(), tls_port):
            raise StackError(f"port {tls_port} is already in use (set TSUBAME_TLS_PORT to another)")
        gateway_workers = env.get("TSUBAME_GATEWAY_WORKERS", "").strip()
        if gateway_workers and not (
            gateway_workers.isascii() and gateway_workers.isdigit() and int(gateway_workers) >= 1
        ):
            raise StackError(
                f"TSUBAME_GATEWAY_WORKERS must be a number >= 1, not {gateway_workers!r}"
            )
        self._gateway_workers = int(gateway_workers or 0)  # 0: TSUBAME_WORKERS
        env["TSUBAME_INSTANCES_FILE"] = str(self.registry_path)
        ports = {ctx: [free_port() for _ in range(self._initial[ctx])] for ctx in SERVICES}
        for ctx in SERVICES:
            env[f"TSUBAME_{ctx.upper()}_URLS"] = ",".join(
                f"http://127.0.0.1:{p}" for p in ports[ctx]
            )
        # The previous run's acknowledgements name processes that are gone.
        for pid in registry.read_acks(self.registry_path):
            registry.drop_ack(self.registry_path, pid)

        self._spawner = Spawner(f"spawner-{self.data_dir.name}")
        ensure_rabbitmq(env["TSUBAME_AMQP_URL"])
        if not env.get("TSUBAME_MONGO_URL"):
            self._mongo = MongoServer(
                self.data_dir / "mongo", self.log_path("mongo"), spawner=self._spawner
            )
            mongo = self._mongo
            self._procs[DATABASE] = Proc(
                DATABASE, DATABASE, 1, mongo.child, health=lambda: mongo.ping(1.0)
            )
            env["TSUBAME_MONGO_URL"] = mongo.start(timeout=max(5.0, deadline - time.monotonic()))
            self._procs[DATABASE].state = UP
        self._env = env
        self._write_stack_env()

        proc_env = {k: v for k, v in os.environ.items() if not k.startswith("TSUBAME_")}
        proc_env.update(env)
        proc_env["PYTHONUNBUFFERED"] = "1"
        self._proc_env = proc_env
        self._gateway_port = gw_port
        self.log(migrate_queued_connections(env))
        new: list[Proc] = []
        for ctx in SERVICES:
            new += [self._add_service(ctx, i + 1, port) for i, port in enumerate(ports[ctx])]
        for ctx in CONTEXTS:
            new += [self._add_worker(ctx, i + 1) for i in range(self._initial[worker_role(ctx)])]
        new += [self._add_gateway(i + 1) for i in range(self._initial[GATEWAY])]
        self._publish()
        for proc in new:
            proc.child.start()
            proc.state = STARTING
        # A worker that fails at start-up (import error, bad config) dies within the
        # moment a worker must stay up to count as healthy.
        self._wait(new, max(1.0, deadline - time.monotonic()))
        self._mark_up(new)

    # -- making processes (called under the lock by start and scale) --------------------

    def _add(self, proc: Proc) -> Proc:
        with self._lock:
            if proc.name in self._procs:
                raise StackError(f"{proc.name} exists already")
            self._procs[proc.name] = proc
        return proc

    def _add_service(self, ctx: str, index: int, port: int) -> Proc:
        name = process_name(ctx, index)
        child = self._gunicorn_child(name, f"services.{ctx}.wsgi:app", "127.0.0.1", port)
        return self._add(
            Proc(
                name,
                ctx,
                index,
                child,
                health=lambda: _http_ok("127.0.0.1", port, "/internal/health"),
                url=f"http://127.0.0.1:{port}",
            )
        )

    def _add_worker(self, ctx: str, index: int) -> Proc:
        role = worker_role(ctx)
        name = process_name(role, index)
        child = Child(
            name,
            [sys.executable, "-m", f"services.{ctx}.worker"],
            self.log_path(name),
            env=self._named_env(name),
            cwd=self.app_root,
            spawner=self._spawner,
        )
        return self._add(Proc(name, role, index, child))

    def _add_gateway(self, index: int) -> Proc:
        name = process_name(GATEWAY, index)
        port = self._gateway_port
        host = self._local_host()
        # The gateway's own worker (gateway/worker.py); services keep gevent. Every
        # gateway instance binds the one public port (SO_REUSEPORT).
        extra = ["-k", "gateway.worker.GatewayWorker", "--reuse-port"]
        if self._gateway_workers:  # its own count (gateway/README.md, "Speed")
            extra += ["--workers", str(self._gateway_workers)]
        tls_port = int(self._proc_env.get("TSUBAME_TLS_PORT") or 0)
        if tls_port:  # apps' HTTPS: a second listener the worker speaks TLS on
            extra += ["--bind", f"{self._bind}:{tls_port}"]
        child = self._gunicorn_child(name, "gateway.wsgi:app", self._bind, port, extra)
        if front_enabled(self._proc_env):
            # The asyncio front on the public port, this gunicorn behind it (gateway/front.py).
            child.argv = [sys.executable, "-m", "gateway.frontproc", "--", *child.argv]
            # SIGTERM to the front alone: its gunicorn must keep taking the connections
            # it hands over until its drain ends (then it stops gunicorn itself).
            child.term_leader = True
        return self._add(
            Proc(
                name,
                GATEWAY,
                index,
                child,
                health=lambda: _http_ok(host, port, "/healthcheck"),
                url=f"http://{host}:{port}",
            )
        )

    def _gunicorn_child(
        self, name: str, app: str, bind: str, port: int, extra: Sequence[str] = ()
    ) -> Child:
        argv = [
            *_gunicorn(),
            "-c",
            str(GUNICORN_CONF),
            app,
            "--bind",
            f"{bind}:{port}",
            "--name",
            f"tsubame-{name}",
            *extra,
        ]
        return Child(
            name,
            argv,
            self.log_path(name),
            env=self._named_env(name),
            cwd=self.app_root,
            spawner=self._spawner,
        )

    def _named_env(self, name: str) -> dict[str, str]:
        """The stack's environment plus this process's name (its log lines and its
        metrics directory carry it: shared/logs.py, shared/httpserver.py)."""
        return {**self._proc_env, logs.PROCESS_ENV: name}

    def _wait(self, procs: Sequence[Proc], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(procs)
        while pending:
            still: list[Proc] = []
            for proc in pending:
                child = proc.child
                if not child.running():
                    raise StackError(
                        f"{child.name} exited with {child.exit_code()} "
                        f"(log {child.log_path}):\n{tail(child.log_path)}"
                    )
                if not proc.healthy():  # a worker: up for a moment (no health URL)
                    still.append(proc)
            pending = still
            if not pending:
                return
            if time.monotonic() > deadline:
                child = pending[0].child
                names = ", ".join(p.name for p in pending)
                raise StackError(
                    f"not healthy after {timeout:.0f}s: {names}; tail of {child.log_path}:\n"
                    f"{tail(child.log_path)}"
                )
            time.sleep(0.2)

    def _write_stack_env(self) -> None:
        keys = sorted(k for k in self._env if k != "TSUBAME_IDENTITY_SECRET")
        lines = [f"{k}={self._env[k]}" for k in keys]
        path = self.data_dir / "stack.env"
        path.write_text(
            "# written by scripts/stack.py at start; the secret is in identity_secret\n"
            + "\n".join(lines)
            + "\n"
        )


def _index(proc: Proc) -> int:
    return proc.index


if __name__ == "__main__":
    from scripts.cli import main

    sys.exit(main(make_stack=Stack, start_errors=(StackError,)))
