"""Outages and dead lock holders, through the gateway (issue 7, items 2, 4, 6).

* With the database down, a valid token used to get 401 (the gateway took the auth
  service's 5xx for "anonymous") and clients threw their users back to login. Now
  every request answers 503 with a plain-text reason and no driver internals, and
  once the database is back a retry succeeds: no orphan lock blocks it.
* A lock whose holder died is freed within lock expiry + one cleaner interval,
  even while the webhook sweep has thousands of recent events to look at (the
  sweep used to take minutes and the cleaner waited behind it).

This module runs its own stack with short timings: it stops and kills that
stack's database (by PID) and writes events into its event log.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from scripts.procs import port_open
from scripts.stack import Stack
from tests.e2e.conftest import _admin_credentials, bearer, login

pytestmark = pytest.mark.e2e

DB_DOWN = "the database is unavailable, try again later\n"
LOCK_EXPIRY = 8
CLEANER_INTERVAL = 3
# Words of drivers and sockets that must never reach a client.
INTERNALS = ("Errno", "errno", "timed out", "timeout", "Connection refused", "127.0.0.1", "pymongo")


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory: pytest.TempPathFactory, namespace: str) -> Iterator[Stack]:
    overrides = {
        "TSUBAME_NAMESPACE": f"{namespace}_outage",
        "TSUBAME_WORKERS": "1",
        "TSUBAME_MONGO_URL": "",
        # Every request asks the auth service, so every request meets the outage.
        "TSUBAME_GATEWAY_AUTH_CACHE_SECONDS": "0",
        # A hung database is given up on quickly.
        "TSUBAME_MONGO_SOCKET_TIMEOUT": "3",
        "TSUBAME_EVENTS_LOCK_EXPIRY": str(LOCK_EXPIRY),
        "TSUBAME_EVENTS_CLEANER_INTERVAL": str(CLEANER_INTERVAL),
        "TSUBAME_EVENTS_SWEEP_DELAY": "1",
    }
    stack = Stack(tmp_path_factory.mktemp("outage"), port=None, env_overrides=overrides)
    stack.start()
    try:
        yield stack
    finally:
        _signal_database(stack, signal.SIGCONT)
        stack.stop()


@pytest.fixture(scope="module")
def admin(outage_stack: Stack) -> dict[str, str]:
    email, password = _admin_credentials(Path(outage_stack.data_dir))
    return bearer(login(outage_stack.url, email, password))


def _database_pid(stack: Stack) -> int:
    return stack.process_groups()["mongo"]


def _signal_database(stack: Stack, sig: signal.Signals) -> None:
    try:
        os.killpg(_database_pid(stack), sig)
    except (ProcessLookupError, KeyError):
        pass


def _database_port(stack: Stack) -> int:
    return int(stack.mongo_url.rsplit(":", 1)[1].split("/")[0])


def _ensure_database(stack: Stack) -> None:
    """Start the killed database again unless a supervisor already did."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if port_open("127.0.0.1", _database_port(stack)):
            return
        time.sleep(0.2)
    restart = getattr(stack, "start_process", None)
    if restart is not None:
        restart("mongo")
    else:
        stack._mongo.start()  # type: ignore[union-attr]


def _clean(resp: requests.Response) -> None:
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    for word in INTERNALS:
        assert word not in resp.text, resp.text


def _until_ok(check: object, within: float = 30.0) -> float:
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < within, "did not heal in time"
        time.sleep(0.3)
    return time.monotonic() - started


def test_hung_database_is_503_never_401(outage_stack: Stack, admin: dict[str, str]) -> None:
    url = outage_stack.url
    assert requests.get(f"{url}/users/info", headers=admin).status_code == 200
    _signal_database(outage_stack, signal.SIGSTOP)
    try:
        calls = [
            ("GET", "/users/info", admin, None),
            ("POST", "/users", admin, {"email": "new@example.com", "password": "123456"}),
            ("GET", "/events", admin, None),
            ("POST", "/auth/login", {}, {"email": "x@example.com", "password": "123456"}),
        ]
        for method, path, headers, data in calls:
            resp = requests.request(method, url + path, headers=headers, data=data, timeout=60)
            assert (resp.status_code, resp.text) == (503, DB_DOWN), path
            _clean(resp)
    finally:
        _signal_database(outage_stack, signal.SIGCONT)
    healed = _until_ok(lambda: requests.get(f"{url}/users/info", headers=admin).ok)
    print(f"healed {healed:.1f} s after the database resumed")


def test_killed_database_then_every_retry_succeeds(
    outage_stack: Stack, admin: dict[str, str]
) -> None:
    url = outage_stack.url
    tag = secrets.token_hex(3)
    results: dict[str, int] = {}
    stop = threading.Event()
    errors: list[str] = []

    def create_teams(worker: int) -> None:
        n = 0
        with requests.Session() as http:
            while not stop.is_set():
                name = f"o{tag}-{worker}-{n}"
                n += 1
                try:
                    resp = http.post(f"{url}/teams", data={"name": name}, headers=admin, timeout=60)
                except requests.RequestException as exc:
                    errors.append(repr(exc))
                    continue
                results[name] = resp.status_code
                if resp.status_code not in (201, 503):
                    errors.append(f"{name}: {resp.status_code} {resp.text!r}")
                if resp.status_code == 503:
                    try:
                        _clean(resp)
                    except AssertionError as exc:
                        errors.append(str(exc))

    threads = [threading.Thread(target=create_teams, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    # Hung first (requests in flight time out halfway through their writes), then
    # killed: a supervisor may restart a dead database at once, a hung one it cannot see.
    _signal_database(outage_stack, signal.SIGSTOP)
    time.sleep(5)
    _signal_database(outage_stack, signal.SIGKILL)
    _ensure_database(outage_stack)
    restarted = time.monotonic()
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join(timeout=90)
    assert errors == []
    assert 201 in results.values()
    failed = [name for name, status in results.items() if status == 503]
    assert failed, "the outage was not seen"

    # Each failed creation is retried: created now, or already there if the write
    # had landed before the failure; never refused by a lock nobody holds.
    def settled(name: str) -> bool:
        resp = requests.post(f"{url}/teams", data={"name": name}, headers=admin, timeout=60)
        if resp.status_code == 409:
            assert resp.text == "team already exists\n", resp.text
        return resp.status_code in (201, 409)

    for name in failed:
        _until_ok(lambda name=name: settled(name), within=20)
    print(
        f"{len(failed)} failed creations settled {time.monotonic() - restarted:.1f} s after restart"
    )
    listed = requests.get(f"{url}/teams", headers=admin).json()
    assert set(failed) <= {t["name"] for t in listed}


def test_dead_holder_lock_is_freed_while_a_big_sweep_runs(
    outage_stack: Stack, admin: dict[str, str]
) -> None:
    from bson import ObjectId
    from pymongo import MongoClient

    from bench.sweep import event_doc
    from shared.events import EVENTS, EventRecorder, MongoEventStorage
    from shared.events.model import Allowed, EventSpec, Owner, Target, now

    url = outage_stack.url
    client: MongoClient = MongoClient(outage_stack.mongo_url, tz_aware=True)
    db = client[f"{outage_stack.namespace}_events"]
    try:
        # A burst of recently finished events, and a webhook: the sweep has work.
        ended = now() - timedelta(seconds=60)
        db[EVENTS].insert_many([event_doc(ended) for _ in range(3000)])
        owner = f"hooks{secrets.token_hex(3)}"
        assert requests.post(f"{url}/teams", data={"name": owner}, headers=admin).ok
        hook = {
            "name": f"quiet-{secrets.token_hex(3)}",
            "url": "http://127.0.0.1:9/",
            "team_owner": owner,
            "event_filter": {"target_types": ["nothing"]},
        }
        resp = requests.post(f"{url}/events/webhooks", json=hook, headers=admin)
        assert resp.status_code == 200, resp.text

        # A holder that dies with the lock: no heartbeat, never finishes.
        team = f"locked{secrets.token_hex(3)}"
        holder = EventRecorder(
            MongoEventStorage(db), instance="dead", lock_expiry=LOCK_EXPIRY, heartbeat=3600
        )
        dead = holder.start(
            EventSpec(
                target=Target("team", team),
                kind="team.update",
                owner=Owner("user", "ghost@example.com"),
                allowed=Allowed("team.read.events"),
            )
        )
        holder.close()
        taken = db[EVENTS].find_one({"_id": ObjectId(dead.unique_id)})["lockupdatetime"]

        resp = requests.post(f"{url}/teams", data={"name": team}, headers=admin)
        assert resp.status_code == 409
        assert resp.text.startswith(f'event locked: team({team}) running "team.update" start by')

        # Nobody else touches the target: the cleaner alone must free it in time.
        def freed() -> bool:
            doc = db[EVENTS].find_one({"_id": ObjectId(dead.unique_id)})
            return not doc["running"]

        _until_ok(freed, within=LOCK_EXPIRY + CLEANER_INTERVAL + 30)
        took = (now() - taken).total_seconds()
        print(f"dead holder's lock freed {took:.1f} s after its last refresh")
        assert took <= LOCK_EXPIRY + CLEANER_INTERVAL + 3
        doc = db[EVENTS].find_one({"_id": ObjectId(dead.unique_id)})
        assert doc["error"].startswith("event expired, no update for ")
        assert db[EVENTS].find_one({"running": True, "lockkeys": f"team({team})"}) is None
        resp = requests.post(f"{url}/teams", data={"name": team}, headers=admin)
        assert resp.status_code == 201, resp.text
    finally:
        client.close()
