"""The provisioner worker as a process: commands over the real bus, events adopted from
the real event log, and a worker killed -9 in the middle of a deploy."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.provisioner.backends.process.units import running_processes, stop_all
from services.provisioner.backends.tests.support import http_get
from services.provisioner.domain.appspec import AppSpec
from services.provisioner.storage.mongo.runtime import mongo_runtime_stores
from services.provisioner.tests.runtime_support import ArchiveServer
from shared import mongo
from shared.bus import Bus
from shared.events import (
    Allowed,
    EventRecorder,
    EventSpec,
    MongoEventStorage,
    Owner,
    RunningEvent,
    Target,
)
from tests.apps import sample_archive

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[4]


class Workers:
    """Provisioner worker processes of one test stack (database, namespace, unit root)."""

    def __init__(self, mongo_url: str, amqp_url: str) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="tsubame-worker-"))
        self.base.chmod(0o711)
        (self.base / "archives").mkdir()
        self.namespace = f"wtest_{secrets.token_hex(4)}"
        self.env = {
            **os.environ,
            "TSUBAME_IDENTITY_SECRET": "worker-test-secret-0123456789",
            "TSUBAME_DATA_DIR": str(self.base / "data"),
            "TSUBAME_NAMESPACE": self.namespace,
            "TSUBAME_MONGO_URL": mongo_url,
            "TSUBAME_AMQP_URL": amqp_url,
            "TSUBAME_PROCESS_ROOT": str(self.base / "root"),
            "TSUBAME_APPS_DOMAIN": "apps.test",
            "TSUBAME_ROUTE_DRAIN_SECONDS": "0.3",
            "TSUBAME_RECONCILE_INTERVAL": "0.5",
        }
        self.procs: list[subprocess.Popen[str]] = []
        self.client = mongo.connect(mongo_url)
        self.db = self.client[f"{self.namespace}_provisioner"]
        self.stores = mongo_runtime_stores(self.db)
        events = MongoEventStorage(self.client[f"{self.namespace}_events"])
        events.ensure_indexes()
        # apps' side of the hand-over (no heartbeat thread: the test is short)
        self.recorder = EventRecorder(events, instance="apps-test", heartbeat=0)
        self.bus = Bus(amqp_url, self.namespace)
        self.archives = ArchiveServer(self.base / "archives")

    def start(self) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.provisioner.worker"],
            cwd=REPO,
            env=self.env,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        assert proc.stderr is not None
        for line in proc.stderr:
            if "worker running" in line:
                break
        # Keep draining its log so the pipe never blocks it.
        threading.Thread(target=lambda: [None for _ in proc.stderr or ()], daemon=True).start()
        return proc

    def archive(self, **extra: str | bytes | None) -> str:
        path = sample_archive(self.base / "archives" / secrets.token_hex(4), extra)
        return self.archives.url(path)

    def event(self, app: str) -> RunningEvent:
        return self.recorder.start(
            EventSpec(
                target=Target("app", app),
                kind="app.deploy",
                owner=Owner("user", "tester@example.com"),
                allowed=Allowed("app.read.events"),
                cancelable=True,
            )
        )

    def send(self, command: str, spec: AppSpec, args: dict[str, Any]) -> Any:
        body = {"command": command, "app": spec.to_json(), "args": args}
        evt = self.event(spec.name)
        self.last_event = evt.id
        with evt.handing_off() as event_id:
            body["event"] = event_id
            return self.bus.send_command("provisioner", body, timeout=120)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.archives.close()
        self.bus.close()
        stop_all(str(self.base / "root"), timeout=5)
        left = running_processes(str(self.base / "root"))
        self.client.drop_database(f"{self.namespace}_provisioner")
        self.client.drop_database(f"{self.namespace}_events")
        self.client.close()
        shutil.rmtree(self.base, ignore_errors=True)
        assert left == [], f"unit processes left running: {left}"


@pytest.fixture
def workers(mongo_url: str, amqp_url: str) -> Iterator[Workers]:
    made = Workers(mongo_url, amqp_url)
    try:
        yield made
    finally:
        made.close()


def spec(app: str) -> AppSpec:
    return AppSpec(name=app, pool="default", platform="python", env={"TSURU_APPNAME": app})


def serving(w: Workers, app: str) -> list[str]:
    route = w.stores.routes.get(app)
    backends = list(route.backends) if route else []
    for backend in backends:
        assert http_get(backend, timeout=3)[0] == 200
    return backends


def test_worker_deploys_through_the_bus_and_stops_on_sigterm(workers: Workers) -> None:
    workers.start()
    replies = list(
        workers.send(
            "deploy",
            spec("bussed"),
            {"version": 1, "kind": "archive-url", "archive_url": workers.archive()},
        )
    )
    final = replies[-1]
    text = "".join(r.get("message", "") for r in replies)
    assert final["final"] and final["error"] == "", text
    assert final["result"]["version"] == 1
    assert "healthcheck successful(" in text
    assert len(serving(workers, "bussed")) == 1
    event = workers.recorder.storage.get_event(workers.last_event)
    assert event is not None and not event.running and event.error == ""
    assert event.end_custom_data == {"image": "tsubame/app-bussed:v1"}
    assert "healthcheck successful(" in event.log


SLOW_BUILD = {"tsuru.yaml": "hooks:\n  build:\n    - sleep 4\nhealthcheck:\n  path: /healthcheck\n"}
SLOW_START = {"Procfile": "web: sleep 4 && exec python3 app.py\n"}


@pytest.mark.parametrize(
    ("extra", "kill_at"),
    [(SLOW_BUILD, "Running build hooks"), (SLOW_START, "Started unit")],
    ids=["during-build", "during-healthcheck"],
)
def test_worker_killed_mid_deploy_ends_clear_and_leaves_no_orphan(
    workers: Workers, extra: dict[str, str], kill_at: str
) -> None:
    first = workers.start()
    app = spec("killed")
    v1 = workers.send(
        "deploy", app, {"version": 1, "kind": "archive-url", "archive_url": workers.archive()}
    )
    assert list(v1)[-1]["error"] == ""
    before = serving(workers, "killed")
    # Version 2 is slow enough (to build, or to start) to kill the worker in its middle.
    slow = workers.archive(**extra)
    replies = workers.send(
        "deploy", app, {"version": 2, "kind": "archive-url", "archive_url": slow}
    )
    seen: list[dict[str, Any]] = []
    for reply in replies:
        seen.append(reply)
        if kill_at in reply.get("message", ""):
            break
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    workers.start()  # the redelivered deploy resumes here
    seen += list(replies)
    final = seen[-1]
    assert final.get("final"), seen
    text = "".join(r.get("message", "") for r in seen)
    rt = workers.stores.runtimes.get("killed")
    assert rt is not None
    if final["error"] == "":
        assert rt.routable == [2], text
    else:
        assert rt.routable == [1] and serving(workers, "killed") == before, text
    assert not any(g.pending for g in rt.groups)
    event = workers.recorder.storage.get_event(workers.last_event)
    assert event is not None and not event.running and event.error == final["error"]
    # No orphan: what runs is exactly what is recorded, and every record is wanted.
    deadline = time.monotonic() + 20
    while True:
        records = {u.id for u in workers.stores.units.of_app("killed")}
        running = {
            u.id for u in _backend_units(workers, "killed") if u.status in ("started", "starting")
        }
        wanted = sum(g.units for g in rt.groups)
        if records == running and len(records) == wanted:
            break
        assert time.monotonic() < deadline, (records, running, wanted)
        time.sleep(0.3)
    assert serving(workers, "killed")


def _backend_units(w: Workers, app: str) -> list[Any]:
    from services.provisioner.backends.process import unitfs
    from services.provisioner.backends.process.layout import Layout
    from services.provisioner.backends.process.units import meta_of, observe

    layout = Layout(str(w.base / "root"), (1000, 1000))
    found = []
    for unit in layout.unit_ids():
        spec_doc = unitfs.read_json(str(layout.unit_dir(unit) / unitfs.SPEC)) or {}
        if spec_doc.get("app") != app:
            continue
        state = unitfs.read_json(str(layout.unit_dir(unit) / unitfs.STATE)) or {}
        found.append(observe(meta_of(spec_doc), state))
    return found


def test_two_workers_share_commands_and_never_fight_over_units(workers: Workers) -> None:
    workers.start()
    workers.start()
    app = spec("shared")
    first = workers.send(
        "deploy", app, {"version": 1, "kind": "archive-url", "archive_url": workers.archive()}
    )
    assert list(first)[-1]["error"] == ""
    # 20 clients add a unit each at once: every command runs (one at a time per app).
    bodies = [
        {"command": "units.add", "event": "", "app": app.to_json(), "args": {"n": 1}}
        for _ in range(20)
    ]
    replies = [workers.bus.send_command("provisioner", body, timeout=180) for body in bodies]
    finals = [list(r)[-1] for r in replies]
    assert [f["error"] for f in finals] == [""] * 20
    rt = workers.stores.runtimes.get("shared")
    assert rt is not None and rt.group("web", 1) is not None
    assert rt.group("web", 1).units == 21  # type: ignore[union-attr]
    # Several reconciler passes of both workers later, nothing was added or removed.
    before = {u.id for u in workers.stores.units.of_app("shared")}
    time.sleep(3)
    after = {u.id for u in workers.stores.units.of_app("shared")}
    running = {u.id for u in _backend_units(workers, "shared") if u.status == "started"}
    assert before == after == running and len(after) == 21
    assert len(workers.stores.routes.get("shared").backends) == 21  # type: ignore[union-attr]
