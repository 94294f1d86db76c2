"""The local stack: SecantusDB, every service and worker, and the gateway.

Python API (used by the e2e fixture) and CLI (``python -m scripts.stack run``, behind
``make run``). See docs/contracts.md "Processes and ports" for the commands and the
environment each process gets.
"""

from __future__ import annotations

import http.client
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.mongo import MongoServer
from scripts.procs import Child, free_port, port_open, tail
from scripts.rabbitmq import DEFAULT_AMQP_URL, ensure_rabbitmq

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTEXTS = ("auth", "apps", "catalog", "provisioner", "events")
GUNICORN_CONF = REPO_ROOT / "deploy" / "gunicorn.py"


class StackError(RuntimeError):
    pass


def _default_namespace(data_dir: str) -> str:
    from shared.settings import default_namespace

    return default_namespace(data_dir)


def _gunicorn() -> list[str]:
    beside = Path(sys.executable).parent / "gunicorn"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "gunicorn"]


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


@dataclass
class _Web:
    """One gunicorn instance (a service instance or the gateway) and its health URL."""

    child: Child
    host: str
    port: int
    health_path: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def healthy(self) -> bool:
        return _http_ok(self.host, self.port, self.health_path)


class Stack:
    """Every process of one Tsubame stack, rooted at ``data_dir``.

    ``port`` is the gateway port (0 or None: a free one). ``env_overrides`` are
    TSUBAME_* values that win over the caller's environment (and over the launcher's
    defaults, except the service URLs, which the launcher owns). ``instances`` maps a
    context to its number of gunicorn instances (default 1).

    Call start(), stop() and the kill/start helpers from one long-lived thread (the
    main thread): children are asked to die with the thread that started them
    (PR_SET_PDEATHSIG), which is what keeps a killed launcher from leaving orphans.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        port: int | None = None,
        env_overrides: Mapping[str, str] | None = None,
        instances: Mapping[str, int] | None = None,
        *,
        app_root: str | os.PathLike[str] | None = None,
    ) -> None:
        # app_root: the directory the processes run in (default: this repository);
        # only the launcher's own tests point it at stand-in apps.
        self.app_root = Path(app_root).resolve() if app_root else REPO_ROOT
        self.data_dir = Path(data_dir).resolve()
        self.logs_dir = self.data_dir / "logs"
        self._requested_port = port
        self._overrides = dict(env_overrides or {})
        unknown = set(instances or {}) - set(CONTEXTS)
        if unknown:
            raise ValueError(f"unknown contexts in instances: {sorted(unknown)}")
        self._instances = {ctx: max(1, int((instances or {}).get(ctx, 1))) for ctx in CONTEXTS}
        self._mongo: MongoServer | None = None
        self._services: dict[str, list[_Web]] = {}
        self._workers: dict[str, Child] = {}
        self._gateway: _Web | None = None
        self._env: dict[str, str] = {}
        self._started = False

    # -- public properties -------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """The TSUBAME_* variables every process gets (valid after start())."""
        return dict(self._env)

    @property
    def url(self) -> str:
        if self._gateway is None:
            raise StackError("stack not started")
        return self._gateway.url

    @property
    def port(self) -> int:
        if self._gateway is None:
            raise StackError("stack not started")
        return self._gateway.port

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
        return [web.url for web in self._services[ctx]]

    def process_groups(self) -> dict[str, int]:
        """Process group id (= leader pid) of every process started, by log name."""
        groups: dict[str, int] = {}
        for child in self._children():
            if child.pid is not None:
                groups[child.name] = child.pid
        return groups

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

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

    def stop(self) -> None:
        """Stop the gateway, the workers, the services, then the database."""
        order: list[Child] = []
        if self._gateway:
            order.append(self._gateway.child)
        order += list(self._workers.values())
        order += [web.child for webs in self._services.values() for web in webs]
        for child in order:  # SIGTERM all first, so they wind down in parallel
            child.terminate()
        for child in order:
            child.stop(grace=10.0)
        self._stop_units()
        if self._mongo:
            self._mongo.stop()
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
        """SIGKILL one instance (or all instances) of a service's gunicorn group."""
        for web in self._select(ctx, instance):
            web.child.kill()

    def start_service(self, ctx: str, instance: int | None = None, timeout: float = 60.0) -> None:
        """Restart the selected instances (on the same ports) and wait until healthy."""
        webs = [w for w in self._select(ctx, instance) if not w.child.running()]
        for web in webs:
            web.child.start()
        self._wait([(web.child, web.healthy) for web in webs], timeout)

    def kill_worker(self, ctx: str) -> None:
        self._workers[ctx].kill()

    def start_worker(self, ctx: str) -> None:
        worker = self._workers[ctx]
        if not worker.running():
            worker.start()

    def revive(self, timeout: float = 60.0) -> list[str]:
        """Restart every service instance and worker that is not running; names restarted."""
        dead_webs = [w for ws in self._services.values() for w in ws if not w.child.running()]
        dead_workers = [w for w in self._workers.values() if not w.running()]
        for child in [w.child for w in dead_webs] + dead_workers:
            child.start()
        checks: list[tuple[Child, Callable[[], bool]]] = [(w.child, w.healthy) for w in dead_webs]
        checks += [(w, w.running) for w in dead_workers]
        self._wait(checks, timeout)
        return [w.child.name for w in dead_webs] + [w.name for w in dead_workers]

    def dead_processes(self) -> list[str]:
        """Names of started processes that are not running (any more)."""
        return [c.name for c in self._children() if c.proc is not None and not c.running()]

    def service_running(self, ctx: str, instance: int | None = None) -> bool:
        return all(w.child.running() for w in self._select(ctx, instance))

    def worker_running(self, ctx: str) -> bool:
        return self._workers[ctx].running()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ---------------------------------------------------------------

    def _children(self) -> list[Child]:
        children: list[Child] = [self._mongo.child] if self._mongo else []
        children += [web.child for webs in self._services.values() for web in webs]
        children += list(self._workers.values())
        if self._gateway:
            children.append(self._gateway.child)
        return children

    def _select(self, ctx: str, instance: int | None) -> list[_Web]:
        webs = self._services[ctx]
        return webs if instance is None else [webs[instance]]

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.startswith("TSUBAME_")}
        env.update(self._overrides)
        return env

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
        bind = env.setdefault("TSUBAME_BIND", "127.0.0.1")
        local = "127.0.0.1" if bind in ("0.0.0.0", "") else bind
        gw_port = self._requested_port or int(env.get("TSUBAME_PORT") or 0) or free_port(bind)
        if port_open(local, gw_port):
            raise StackError(f"port {gw_port} is already in use (set TSUBAME_PORT to another)")
        env["TSUBAME_PORT"] = str(gw_port)
        ports = {ctx: [free_port() for _ in range(self._instances[ctx])] for ctx in CONTEXTS}
        for ctx in CONTEXTS:
            env[f"TSUBAME_{ctx.upper()}_URLS"] = ",".join(
                f"http://127.0.0.1:{p}" for p in ports[ctx]
            )

        ensure_rabbitmq(env["TSUBAME_AMQP_URL"])
        if not env.get("TSUBAME_MONGO_URL"):
            self._mongo = MongoServer(self.data_dir / "mongo", self.log_path("mongo"))
            env["TSUBAME_MONGO_URL"] = self._mongo.start(
                timeout=max(5.0, deadline - time.monotonic())
            )
        self._env = env
        self._write_stack_env()

        proc_env = {k: v for k, v in os.environ.items() if not k.startswith("TSUBAME_")}
        proc_env.update(env)
        proc_env["PYTHONUNBUFFERED"] = "1"
        for ctx in CONTEXTS:
            self._services[ctx] = [
                self._web(
                    ctx if i == 0 else f"{ctx}-{i + 1}",
                    f"services.{ctx}.wsgi:app",
                    "127.0.0.1",
                    port,
                    "/internal/health",
                    proc_env,
                )
                for i, port in enumerate(ports[ctx])
            ]
            self._workers[ctx] = Child(
                f"{ctx}-worker",
                [sys.executable, "-m", f"services.{ctx}.worker"],
                self.log_path(f"{ctx}-worker"),
                env=proc_env,
                cwd=self.app_root,
            )
        self._gateway = self._web(
            "gateway",
            "gateway.wsgi:app",
            bind,
            gw_port,
            "/healthcheck",
            proc_env,
            # The gateway's own worker (gateway/worker.py); services keep gevent.
            extra=["-k", "gateway.worker.GatewayWorker"],
        )
        self._gateway.host = local

        webs = [w for ws in self._services.values() for w in ws]
        for web in webs:
            web.child.start()
        for worker in self._workers.values():
            worker.start()
        self._gateway.child.start()
        checks: list[tuple[Child, Callable[[], bool]]] = [(w.child, w.healthy) for w in webs]
        checks.append((self._gateway.child, self._gateway.healthy))
        checks += [(worker, worker.running) for worker in self._workers.values()]
        self._wait(checks, max(1.0, deadline - time.monotonic()))
        # A worker that fails at start-up (import error, bad config) dies within a moment.
        time.sleep(0.5)
        self._wait([(worker, worker.running) for worker in self._workers.values()], 1.0)

    def _web(
        self,
        name: str,
        app: str,
        bind: str,
        port: int,
        health: str,
        env: dict[str, str],
        extra: Sequence[str] = (),
    ) -> _Web:
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
        child = Child(name, argv, self.log_path(name), env=env, cwd=self.app_root)
        return _Web(child, bind, port, health)

    def _wait(self, checks: list[tuple[Child, Callable[[], bool]]], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(checks)
        while pending:
            still: list[tuple[Child, Callable[[], bool]]] = []
            for child, healthy in pending:
                if not child.running():
                    raise StackError(
                        f"{child.name} exited with {child.exit_code()} "
                        f"(log {child.log_path}):\n{tail(child.log_path)}"
                    )
                if not healthy():
                    still.append((child, healthy))
            pending = still
            if not pending:
                return
            if time.monotonic() > deadline:
                child = pending[0][0]
                names = ", ".join(c.name for c, _ in pending)
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


if __name__ == "__main__":
    from scripts.cli import main

    sys.exit(main(make_stack=Stack, start_errors=(StackError,)))
