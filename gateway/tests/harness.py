"""A real gateway (gunicorn, deploy/gunicorn.py) in front of fake services.

Used by tests/e2e/test_gateway_*.py and bench/gateway.py. Every service context gets
``instances[ctx]`` processes of ``gateway.tests.fake_upstream`` on free ports; the
gateway gets their URLs, exactly as scripts/stack.py would pass them.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.settings import SERVICES

REPO = Path(__file__).resolve().parents[2]
SECRET = "gateway-test-secret-0123456789"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _wait(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not _healthy(port, path):
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.args!r} not healthy after {timeout}s")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


class FakeService:
    def __init__(self, name: str, port: int, control: Path, log: Path) -> None:
        self.name = name
        self.port = port
        self.control = control
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [sys.executable, "-m", "gateway.tests.fake_upstream", "--name", self.name]
        argv += ["--port", str(self.port), "--control", str(self.control)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, cwd=REPO, stdout=out, stderr=out, start_new_session=True
            )
        _wait(self.port, "/internal/health", self.proc)

    def kill(self) -> None:
        _stop(self.proc, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def gateway_front(env: Mapping[str, str] | None = None) -> bool:
    """Whether scripts/stack.py would put the asyncio front before the gateway."""
    from scripts.stack import front_enabled

    return front_enabled({**os.environ, **dict(env or {})})


class GatewayHarness:
    def __init__(
        self,
        root: Path,
        *,
        instances: Mapping[str, int] | None = None,
        env: Mapping[str, str] | None = None,
        workers: int = 1,
        front: bool | None = None,
    ) -> None:
        """``front``: the gateway behind its asyncio front (gateway/front.py) or not;
        None: as scripts/stack.py decides (TSUBAME_GATEWAY_FRONT)."""
        self.root = root
        self.front = gateway_front(env) if front is None else front
        self.control = root / "control"
        self.control.mkdir(parents=True, exist_ok=True)
        self.namespace = f"tsubame_gwtest_{secrets.token_hex(4)}"
        self.services: dict[str, list[FakeService]] = {
            ctx: [
                FakeService(ctx, free_port(), self.control, root / f"{ctx}-{i}.log")
                for i in range((instances or {}).get(ctx, 1))
            ]
            for ctx in SERVICES
        }
        self.port = free_port()
        self.env = {
            "TSUBAME_DATA_DIR": str(root / "data"),
            "TSUBAME_NAMESPACE": self.namespace,
            "TSUBAME_IDENTITY_SECRET": SECRET,
            "TSUBAME_WORKERS": str(workers),
            "TSUBAME_PORT": str(self.port),
            **{
                f"TSUBAME_{ctx.upper()}_URLS": ",".join(s.url for s in services)
                for ctx, services in self.services.items()
            },
            **dict(env or {}),
        }
        self.gateway: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        for services in self.services.values():
            for service in services:
                service.start()
        proc_env = {k: v for k, v in os.environ.items() if not k.startswith("TSUBAME_")}
        proc_env.update(self.env)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        argv = [str(gunicorn), "-c", str(REPO / "deploy" / "gunicorn.py"), "gateway.wsgi:app"]
        argv += ["--bind", f"127.0.0.1:{self.port}"]
        argv += ["-k", "gateway.worker.GatewayWorker"]  # as scripts/stack.py runs it
        if self.front:
            argv = [sys.executable, "-m", "gateway.frontproc", "--", *argv]
        with (self.root / "gateway.log").open("ab") as out:
            self.gateway = subprocess.Popen(
                argv, cwd=REPO, env=proc_env, stdout=out, stderr=out, start_new_session=True
            )
        _wait(self.port, "/healthcheck", self.gateway)

    def stop(self) -> None:
        _stop(self.gateway)
        for services in self.services.values():
            for service in services:
                service.kill()

    def kill_service(self, ctx: str, instance: int | None = None) -> None:
        for i, service in enumerate(self.services[ctx]):
            if instance is None or i == instance:
                service.kill()

    def start_service(self, ctx: str, instance: int | None = None) -> None:
        for i, service in enumerate(self.services[ctx]):
            if instance is None or i == instance:
                service.start()

    def route_sample_apps(self) -> None:
        """The provisioner's route table (before start): app "myapp" is the events
        stand-in (it describes the requests it gets), app "idle" has no unit. Needs
        ``TSUBAME_APPS_DOMAIN=apps.example.com``."""
        unit = self.services["events"][0].url.removeprefix("http://")
        routes = [
            {"app": "myapp", "hosts": ["myapp.apps.example.com", "www.myapp.com"],
             "backends": [unit], "asleep": False, "seq": 1},
            {"app": "idle", "hosts": ["idle.apps.example.com"], "backends": [], "asleep": True,
             "seq": 2},
        ]  # fmt: skip
        (self.control / "routes.json").write_text(json.dumps({"seq": 2, "routes": routes}))

    def worker_pids(self) -> list[int]:
        """gunicorn's workers (behind the front, its master is the front's child)."""
        assert self.gateway is not None
        if not self.front:
            return _children(self.gateway.pid)
        return [w for master in _children(self.gateway.pid) for w in _children(master)]

    def worker_sockets(self) -> int:
        """Sockets open in gunicorn's workers: a connection the front serves itself
        opens none there, one it hands over opens one while it lasts."""
        total = 0
        for pid in self.worker_pids():
            fds = Path(f"/proc/{pid}/fd")
            for fd in fds.iterdir():
                try:
                    total += os.readlink(fd).startswith("socket:")
                except OSError:
                    pass  # closed meanwhile
        return total

    @property
    def front_pid(self) -> int | None:
        """The front's process (gateway/front.py), when there is one."""
        return self.gateway.pid if self.front and self.gateway is not None else None

    def __enter__(self) -> GatewayHarness:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


Answer = tuple[bytes, dict[str, str], bytes]


def raw_answers(
    port: int, data: bytes, count: int, source: str | None = None, sock: Any = None
) -> list[Answer]:
    """Send ``data`` on one connection (from address ``source``, e.g. ``127.0.0.2``;
    or on ``sock``, left open); ``count`` answers: status line, headers (lower-case
    names), body."""
    if sock is None:
        address = (source, 0) if source else None
        with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=address) as s:
            return raw_answers(port, data, count, sock=s)
    out: list[Answer] = []
    sock.sendall(data)
    buf = b""
    while len(out) < count:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {len(out)} answers: {buf!r}"
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        status, *lines = head.split(b"\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if b" 204 " in status or b"HEAD" in data.split(b"\r\n", 1)[0]:
            length = 0
        while len(buf) < length:
            chunk = sock.recv(65536)
            assert chunk
            buf += chunk
        out.append((status, headers, buf[:length]))
        buf = buf[length:]
    return out
