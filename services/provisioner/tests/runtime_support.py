"""A runtime on real parts for the runtime's integration tests: MongoDB, the process
backend on a temp root, the real archive fetcher, healthchecker and app log (publishing
into a RecordingPublisher), and an event recorder apps would have opened the event on.
"""

from __future__ import annotations

import http.server
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import ObjectId

from services.provisioner.adapters.applog import BusAppLog
from services.provisioner.adapters.archives import HttpArchiveSource
from services.provisioner.adapters.healthcheck import HttpHealthChecker
from services.provisioner.adapters.host import LocalHost
from services.provisioner.adapters.usage import ProcessUsage
from services.provisioner.backends.process import ProcessBackend, ProcessConfig
from services.provisioner.backends.process.units import running_processes, stop_all
from services.provisioner.domain.appspec import AppSpec
from services.provisioner.operations.runtime.commands import handle
from services.provisioner.operations.runtime.deps import RuntimeConfig, RuntimeDeps
from services.provisioner.storage.mongo.runtime import RUNTIME_INDEXES, mongo_runtime_stores
from shared import mongo
from shared.events import Allowed, EventSpec, Owner, Target
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder
from tests.apps import sample_archive

GREETING = "olá, 世界"


class ArchiveServer:
    """Serves files of a directory over HTTP on 127.0.0.1 (the user's archive-url)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = _quiet_handler(str(root))
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: Path) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path.relative_to(self.root)}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client hanging up early (a refused download) is expected here


def _quiet_handler(directory: str) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, directory=directory, **kw)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

    return Handler


@dataclass
class Outcome:
    messages: list[str] = field(default_factory=list)
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(self.messages)


@dataclass
class Harness:
    deps: RuntimeDeps
    recorder: FakeRecorder
    published: RecordingPublisher
    archives: ArchiveServer
    base: Path

    def spec(self, app: str, **kw: Any) -> AppSpec:
        env = {"GREETING": GREETING, "TSURU_APPNAME": app, **kw.pop("env", {})}
        return AppSpec(name=app, pool="default", platform="python", env=env, **kw)

    def archive(self, extra: Mapping[str, str | bytes | None] | None = None) -> str:
        path = sample_archive(self.base / "archives" / secrets.token_hex(4), extra)
        return self.archives.url(path)

    def run(
        self,
        command: str,
        spec: AppSpec,
        args: Mapping[str, Any] | None = None,
        *,
        event: bool = True,
        cancel_after: float | None = None,
        before: Callable[[str], None] | None = None,
    ) -> Outcome:
        """Send a command as apps does (event opened, handed off) and collect its replies."""
        out = Outcome()

        def reply(message: dict[str, Any]) -> None:
            if "message" in message:
                out.messages.append(message["message"])

        body: dict[str, Any] = {"command": command, "app": spec.to_json(), "args": dict(args or {})}
        opened = None
        if event:
            opened = self.recorder.start(
                EventSpec(
                    target=Target("app", spec.name),
                    kind=f"app.{command}",
                    owner=Owner("user", "tester@example.com"),
                    allowed=Allowed("app.read.events"),
                    cancelable=command == "deploy",
                )
            )
        try:
            if opened is not None:
                with opened.handing_off() as event_id:
                    body["event"] = event_id
                if before is not None:
                    before(event_id)  # e.g. what an attempt that died left
                if cancel_after is not None:
                    timer = threading.Timer(cancel_after, self._cancel, (event_id,))
                    timer.start()
            out.result = handle(self.deps, body, reply)
        except Exception as exc:
            out.error = str(exc)
            out.result = getattr(exc, "result", None) or {}
        return out

    def _cancel(self, event_id: str) -> None:
        self.recorder.memory.request_cancel(
            ObjectId(event_id), owner="tester", reason="stop it", when=datetime.now(UTC)
        )

    def deploy(self, spec: AppSpec, version: int, **args: Any) -> Outcome:
        archive = args.pop("archive", None) or self.archive(args.pop("extra", None))
        return self.run(
            "deploy",
            spec,
            {"version": version, "kind": "archive-url", "archive_url": archive, **args},
        )


def make_config(base: Path, **kw: Any) -> RuntimeConfig:
    fields: dict[str, Any] = {
        "apps_domain": "apps.test",
        "drain_seconds": 0.3,
        "healthcheck_timeout": 30.0,
        "healthcheck_interval": 0.3,
        "lease_ttl": 5.0,
        "lease_wait": 60.0,
        "archives_dir": str(base / "kept"),
        "reconcile_interval": 0.5,
    }
    fields.update(kw)
    return RuntimeConfig(**fields)


@contextmanager
def harness(
    mongo_url: str, namespace: str, *, db_name: str = "", **config: Any
) -> Iterator[Harness]:
    base = Path(tempfile.mkdtemp(prefix="tsubame-runtime-"))
    base.chmod(0o711)
    (base / "archives").mkdir()
    client = mongo.connect(mongo_url)
    name = db_name or f"{namespace}_prov_{secrets.token_hex(3)}"
    db = client[name]
    mongo.ensure_indexes(db, RUNTIME_INDEXES)
    published = RecordingPublisher()
    app_log = BusAppLog(published, interval=0.05).start()
    backend = ProcessBackend(ProcessConfig(root=str(base / "root")), app_log.unit_line)
    archives = ArchiveServer(base / "archives")
    recorder = FakeRecorder()
    deps = RuntimeDeps(
        stores=mongo_runtime_stores(db),
        backend=backend,
        recorder=recorder,
        publisher=published,
        archives=HttpArchiveSource(None),
        health=HttpHealthChecker(),
        app_log=app_log,
        usage=ProcessUsage(str(base / "root")),
        host=LocalHost(),
        config=make_config(base, **config),
    )
    try:
        yield Harness(deps, recorder, published, archives, base)
    finally:
        archives.close()
        backend.close()
        app_log.close()
        stop_all(str(base / "root"), timeout=5)
        left = running_processes(str(base / "root"))
        client.drop_database(name)
        client.close()
        shutil.rmtree(base, ignore_errors=True)
        assert left == [], f"unit processes left running: {left}"


def with_config(h: Harness, **kw: Any) -> Harness:
    return replace(h, deps=replace(h.deps, config=replace(h.deps.config, **kw)))


def route_of(h: Harness, app: str) -> list[str]:
    found = h.deps.stores.routes.get(app)
    return list(found.backends) if found else []


class Traffic:
    """Requests in a loop to an app's routable units, as a gateway following the route
    table would (it re-reads the route before each request); failures are kept."""

    def __init__(self, h: Harness, app: str) -> None:
        self.h, self.app = h, app
        self.failures: list[str] = []
        self.ok = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from services.provisioner.backends.tests.support import http_get

        n = 0
        while not self._stop.is_set():
            backends = route_of(self.h, self.app)
            if not backends:
                self.failures.append("no backend in the route")
            else:
                n += 1
                try:
                    status, _ = http_get(backends[n % len(backends)], timeout=3)
                    if status == 200:
                        self.ok += 1
                    else:
                        self.failures.append(f"status {status}")
                except OSError as exc:
                    self.failures.append(repr(exc))
            time.sleep(0.01)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
