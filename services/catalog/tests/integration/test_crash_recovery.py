"""A catalog process killed with SIGKILL in the middle of a bind: the recovery finds
the bind cut short and takes everything back on every side (the instance, the service
API, the app's env vars)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from services.catalog.operations.recovery import recover
from services.catalog.tests.integration.conftest import SECRET, World
from services.catalog.tests.unit.conftest import ADMIN
from shared.events import EventRecorder, MongoEventStorage
from shared.identity import IDENTITY_HEADER, sign
from shared.testing.identity import Pending

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[4]


def test_bind_killed_midway_is_rolled_back(world: World, mongo_url: str) -> None:
    w, client = world, world.app.test_client()
    data = {"id": "mysql", "password": "p", "team": "blue", "endpoint": w.api.url}
    assert client.post("/services", data=data, headers=ADMIN).status_code == 201
    client.post("/services/mysql/instances", data={"name": "db1", "owner": "blue"}, headers=ADMIN)
    w.apps.add_app("shop", teams=["blue"], pool="p1", units=[("u1", "10.0.0.1")])
    stores = w.deps.stores.instances
    db = stores.c.database  # type: ignore[attr-defined]
    events_db = f"{db.name}_events"
    config = {"mongo_url": mongo_url, "db": db.name, "events_db": events_db,
              "secret": SECRET.decode(), "apps_url": w.apps.url}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.catalog.tests.peers.catalog_process", json.dumps(config)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        w.api.hold("POST", "/resources/db1/bind")  # the last step: a unit's bind
        path = "/services/mysql/instances/db1/shop"
        identity = ADMIN[IDENTITY_HEADER]
        assert isinstance(identity, Pending)
        header = sign(identity.identity, SECRET, method="PUT", path=path)

        def bind() -> None:
            try:
                requests.put(f"http://127.0.0.1:{port}{path}", headers={IDENTITY_HEADER: header},
                             timeout=60)  # fmt: skip
            except requests.RequestException:
                pass  # the server dies under it

        caller = threading.Thread(target=bind)
        caller.start()
        assert w.api.held.wait(30)
        proc.kill()
        proc.wait(10)
        w.api.release()
        caller.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    # What the dead process left: bound everywhere, and its note.
    half = stores.get("mysql", "db1")
    assert half is not None and half.apps == ["shop"] and len(half.pending) == 1
    assert [e["name"] for e in w.apps.service_envs("shop")] == ["DB_HOST", "DB_USER"]
    # The recovery waits for the dead holder's lock to expire (here 1 s), then undoes.
    w.deps.recorder = EventRecorder(
        MongoEventStorage(db.client[events_db]), instance=f"recovery-{secrets.token_hex(2)}",
        lock_expiry=1.0,
    )  # fmt: skip
    time.sleep(1.5)
    assert recover(w.deps) == 1
    inst = stores.get("mysql", "db1")
    assert inst is not None and (inst.apps, inst.bound_units, inst.pending) == ([], [], [])
    assert w.apps.service_envs("shop") == []
    assert len(w.api.calls("DELETE", "/resources/db1/bind-app")) == 1
    assert [r.field("unit-host") for r in w.api.calls("DELETE", "/resources/db1/bind")] == [
        ["10.0.0.1"]
    ]
