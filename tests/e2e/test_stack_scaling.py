"""Scaling the real stack while clients use it (issue 16).

A stack with apps=2, auth=2 and provisioner-worker=2. Clients loop through the gateway
while one instance of each service is killed with -9 (by pid, from the stack's records)
and while the stack (services and gateway) is scaled up and down: no idempotent request
fails, and no non-idempotent request is sent twice (a team created twice would answer
409). A units.add command whose provisioner worker is killed -9 while it works is
finished by the other worker, once.

Each read carries its own request id; a failed one is shown with every log line naming
that id and the gateway logs' lines other than access lines.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from scripts.procs import group_members
from scripts.stack import Stack
from services.provisioner.backends.process.units import running_processes
from tests.apps import sample_archive
from tests.e2e.conftest import _admin_credentials, bearer, login

pytestmark = pytest.mark.e2e

GATEWAY_FAILURES = (500, 502, 503, 504)
LOG_TAIL = 200  # lines of each gateway log shown with a failure


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, namespace: str, units_root: Path
) -> Iterator[Stack]:
    started = Stack(
        tmp_path_factory.mktemp("scaling"),
        env_overrides={
            "TSUBAME_NAMESPACE": f"{namespace}_scaling",
            "TSUBAME_WORKERS": "1",
            "TSUBAME_MONGO_URL": "",
            "TSUBAME_ACCESS_LOG": "-",  # each instance logs the requests it served
            "TSUBAME_PROCESS_ROOT": str(units_root / "scaling"),
        },
        instances={"apps": 2, "auth": 2, "provisioner-worker": 2},
    )
    started.start()
    try:
        yield started
    finally:
        groups = started.process_groups()
        started.stop()
        assert {n: group_members(g) for n, g in groups.items() if group_members(g)} == {}
        assert running_processes(str(started.units_root())) == []


@pytest.fixture(scope="module")
def token(stack: Stack) -> str:
    return login(stack.url, *_admin_credentials(Path(stack.data_dir)))


@dataclass
class Tally:
    reads: int = 0
    failed_reads: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # 502: the instance died with it
    twice: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client(stack: Stack, token: str, tally: Tally, stop: threading.Event, n: int) -> None:
    auth = bearer(token)
    sent = itertools.count()
    with requests.Session() as http:
        while not stop.is_set():
            for method, path in (("GET", "/users/info"), ("GET", "/apps"), ("GET", "/teams")):
                # Our own request id: the gateway and the services log it (see failures()).
                rid = f"chaos-{n}-{next(sent)}"
                headers = {**auth, "X-Request-Id": rid}
                try:
                    resp = http.request(method, stack.url + path, headers=headers, timeout=30)
                    bad = resp.status_code in GATEWAY_FAILURES
                    why = f"[{rid}] {method} {path}: {resp.status_code} {resp.text[:80]!r}"
                except requests.RequestException as exc:
                    bad, why = True, f"[{rid}] {method} {path}: {exc!r}"
                with tally.lock:
                    tally.reads += 1
                    if bad:
                        tally.failed_reads.append(why)
            name = f"t{n}-{secrets.token_hex(4)}"
            try:
                resp = http.post(
                    stack.url + "/teams", data={"name": name}, headers=auth, timeout=30
                )
                status = resp.status_code
            except requests.RequestException as exc:
                status, resp = -1, None
                why = repr(exc)
            with tally.lock:
                if status == 201:
                    tally.created.append(name)
                elif status == 502:
                    tally.unanswered.append(name)
                elif status == 409:
                    tally.twice.append(name)
                else:
                    tally.other.append(f"{name}: {status} {resp.text[:80] if resp else why}")


def failures(stack: Stack, failed: list[str]) -> str:
    """The failed reads with what the logs say of them: every line naming their request
    ids (any process), then every gateway instance's log without its access lines
    (warnings, tracebacks, signals), so one rare failure can be diagnosed afterwards."""
    ids = re.findall(r"\[(chaos-\d+-\d+)\]", "\n".join(failed))
    # The id alone, in text lines ("[chaos-0-7]") and JSON ones ("request_id": "chaos-0-7").
    alternatives = "|".join(ids) or "(?!)"  # none: matches nothing
    pattern = re.compile(rf"(?<![\w-])({alternatives})(?![\w-])")
    out = ["failed reads:", *failed, "", "their lines in the stack's logs:"]
    logs = sorted(stack.logs_dir.glob("*.log"))
    for path in logs:
        out += [f"{path.name}: {line}" for line in _lines(path) if pattern.search(line)]
    for path in (p for p in logs if p.name.startswith("gateway")):
        kept = [line for line in _lines(path) if "gunicorn.access" not in line]
        out += ["", f"{path} without access lines (last {LOG_TAIL}):", *kept[-LOG_TAIL:]]
    return "\n".join(out)


def _lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines()


def kill9(stack: Stack, name: str) -> None:
    before = {p["name"]: p["restarts"] for p in stack.processes()}[name]
    os.kill(stack.process_groups()[name], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while {p["name"]: p["restarts"] for p in stack.processes()}[name] == before:
        assert time.monotonic() < deadline, f"{name} was not restarted"
        time.sleep(0.05)
    stack.wait_healthy(60)


def served(stack: Stack, name: str) -> int:
    """Requests an instance answered, from its access log (gunicorn's format)."""
    return sum(1 for line in stack.log_path(name).read_text().splitlines() if '"GET /' in line)


def test_healthcheck_shows_each_instance(stack: Stack) -> None:
    resp = requests.get(stack.url + "/healthcheck?check=all")
    assert resp.status_code == 200, resp.text
    lines = resp.text.splitlines()
    for ctx in ("apps", "auth"):
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{ctx}: WORKING ("))
        instances = lines[start + 1 : start + 3]
        assert [line.split(": ")[0].strip() for line in instances] == stack.service_urls(ctx)
        assert all(": WORKING (" in line for line in instances), resp.text


def test_no_request_lost_while_instances_die_and_the_stack_is_rescaled(
    stack: Stack, token: str
) -> None:
    tally, stop = Tally(), threading.Event()
    clients = [
        threading.Thread(target=client, args=(stack, token, tally, stop, n), daemon=True)
        for n in range(3)
    ]
    for thread in clients:
        thread.start()
    steps: list[Callable[[], object]] = [
        lambda: kill9(stack, "auth-2"),
        lambda: kill9(stack, "apps"),
        lambda: stack.scale({"apps": 3, "auth": 3, "gateway": 2}),
        lambda: kill9(stack, "auth"),
        lambda: stack.scale({"apps": 1, "auth": 1}),
        lambda: stack.scale({"apps": 2, "auth": 2, "gateway": 1}),
    ]
    try:
        for step in steps:
            time.sleep(1.0)
            step()
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in clients:
            thread.join(60)
    print(
        f"\n{tally.reads} reads, {len(tally.created)} teams created, "
        f"{len(tally.unanswered)} creations unanswered (instance killed while handling them)"
    )
    assert tally.reads > 100 and len(tally.created) > 20
    assert tally.failed_reads == [], failures(stack, tally.failed_reads)
    assert tally.twice == []  # never sent twice
    assert tally.other == []
    # Every team answered 201 exists; one that got 502 may or may not.
    teams = requests.get(stack.url + "/teams", headers=bearer(token)).json()
    names = {t["name"] for t in teams}
    assert set(tally.created) <= names
    counts = stack.counts()
    assert (counts["apps"], counts["auth"], counts["gateway"]) == (2, 2, 1)


def test_a_new_instance_gets_requests_at_once(stack: Stack, token: str) -> None:
    stack.scale({"auth": 3})
    try:
        before = served(stack, "auth-3")
        with requests.Session() as http:
            for _ in range(12):
                resp = http.get(stack.url + "/users/info", headers=bearer(token))
                assert resp.status_code == 200
        deadline = time.monotonic() + 10
        while served(stack, "auth-3") <= before:  # access log lines are written after
            assert time.monotonic() < deadline, "the new instance served nothing"
            time.sleep(0.1)
    finally:
        stack.scale({"auth": 2})
    health = requests.get(stack.url + "/healthcheck?check=auth").text
    assert health.count("\n  http://") == 2


# Each new unit waits in tsuru.yaml's restart hook before it starts: long enough to kill
# the worker that is starting it.
SLOW_START = {
    "tsuru.yaml": "hooks:\n  restart:\n    before:\n      - sleep 4\n"
    "healthcheck:\n  path: /healthcheck\n"
}


def lease_holder(stack: Stack, app: str) -> int | None:
    """The pid of the provisioner worker working on ``app`` now (its lease document)."""
    from pymongo import MongoClient

    client: MongoClient = MongoClient(stack.mongo_url)
    try:
        found = client[f"{stack.namespace}_provisioner"]["leases"].find_one({"_id": f"app:{app}"})
    finally:
        client.close()
    return None if found is None else int(found["pid"])


def test_a_command_is_finished_by_the_other_worker_when_its_worker_dies(
    stack: Stack, token: str, tmp_path: Path
) -> None:
    admin = bearer(token)
    team, app = f"pw-{secrets.token_hex(3)}", f"pw-{secrets.token_hex(4)}"
    assert requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin).ok
    r = requests.post(f"{stack.url}/apps", headers=admin,
                      data={"name": app, "platform": "python", "teamOwner": team})  # fmt: skip
    assert r.status_code == 201, r.text
    archive = sample_archive(tmp_path, SLOW_START).read_bytes()
    r = requests.post(f"{stack.url}/apps/{app}/deploy", headers=admin, timeout=300,
                      files={"file": ("app.tar.gz", archive, "application/gzip")})  # fmt: skip
    assert r.status_code == 200 and r.text.rstrip().endswith("OK"), r.text[-2000:]
    workers = {stack.process_groups()[n] for n in ("provisioner-worker", "provisioner-worker-2")}

    lines: list[dict] = []
    holder: list[int] = []
    # Keep the killed worker down, so the command can only be finished by the other one.
    stack.supervisor.pause()
    try:
        with requests.put(f"{stack.url}/apps/{app}/units", data={"units": "1", "process": "web"},
                          headers=admin, stream=True, timeout=300) as add:  # fmt: skip
            assert add.status_code == 200, add.text
            for raw in add.iter_lines():
                if not raw.strip():
                    continue
                lines.append(json.loads(raw))
                if not holder:
                    # The command is running (it streams): its worker holds the app's lease.
                    pid = lease_holder(stack, app)
                    assert pid in workers, (pid, workers)
                    holder.append(pid)
                    os.killpg(pid, signal.SIGKILL)
        # The killed worker stayed down: the other one finished the command.
        assert [p["running"] for p in stack.processes() if p["pid"] == holder[0]] == [False]
    finally:
        stack.supervisor.resume()
    assert [x["Error"] for x in lines if x.get("Error")] == [], lines
    # Done once: one unit added, not two, and every unit on disk is one the API lists.
    found = requests.get(f"{stack.url}/apps/{app}", headers=admin, timeout=30).json()["units"]
    assert [u["Status"] for u in found] == ["started", "started"], found
    listed = {u["ID"] for u in found}
    on_disk = {p.name for p in (stack.units_root() / "units").iterdir() if p.name.startswith(app)}
    assert on_disk == listed
    events = requests.get(f"{stack.url}/events?target.value={app}&kindname=app.update.unit.add",
                          headers=admin, timeout=30).json()  # fmt: skip
    assert [(e["Running"], e["Error"]) for e in events] == [(False, "")], events
    stack.wait_healthy(60)  # and the killed worker is back
    assert stack.worker_running("provisioner", 0) and stack.worker_running("provisioner", 1)
