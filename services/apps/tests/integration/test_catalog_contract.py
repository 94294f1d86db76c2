"""The real apps service (Mongo stores, served over HTTP) passes the catalog's contract
(tests/contracts/apps_for_catalog.py), which the catalog's fake apps peer passes too."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from services.apps.bootstrap import create_app
from services.apps.domain.models import App, AppRouter
from services.apps.settings import AppsSettings
from services.apps.storage.mongo import INDEXES, mongo_stores
from services.apps.tests.fakes import fake_deps
from shared.mongo import ensure_indexes
from shared.settings import Settings
from tests.contracts.apps_for_catalog import AppsForCatalogContract

pytestmark = pytest.mark.integration

SECRET = b"apps-contract-secret-0123456789"


class RealApps:
    def __init__(self, db: Any) -> None:
        self.secret = SECRET
        settings = AppsSettings.from_settings(Settings("/nonexistent", "contract", "", "", SECRET))
        self.deps = fake_deps()
        self.deps.stores = mongo_stores(db)
        self._server = make_server("127.0.0.1", 0, create_app(settings, self.deps), threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_app(
        self, name: str, *, teams: list[str], pool: str, units: list[tuple[str, str]]
    ) -> None:
        self.deps.stores.apps.add(
            App(
                name,
                pool=pool,
                team_owner=teams[0],
                teams=list(teams),
                platform="python",
                routers=[AppRouter("tsubame")],
            )  # fmt: skip
        )
        self.deps.provisioner.units_by_app[name] = [  # type: ignore[attr-defined]
            {"ID": uid, "IP": ip, "Status": "started"} for uid, ip in units
        ]

    def service_envs(self, app: str) -> list[dict[str, str]]:
        found = self.deps.stores.apps.get(app)
        assert found is not None
        return [{"name": e.name, "value": e.value, "service": e.service,
                 "instance": e.instance} for e in found.service_envs]  # fmt: skip


class TestRealAppsForCatalog(AppsForCatalogContract):
    @pytest.fixture
    def peer(self, mongo_client, namespace: str) -> Iterator[RealApps]:  # type: ignore[no-untyped-def]
        name = f"{namespace}_apps_peer_{secrets.token_hex(3)}"
        db = mongo_client[name]
        ensure_indexes(db, INDEXES)
        real = RealApps(db)
        yield real
        real.close()
        mongo_client.drop_database(name)

    def test_a_restart_is_relayed_for_an_app_with_units(self, peer: RealApps) -> None:
        from tests.contracts.apps_for_catalog import set_envs

        peer.add_app("shop", teams=["blue"], pool="p1", units=[("u1", "10.0.0.7")])
        assert set_envs(peer, "shop", {"A": "1"}, restart=True) == [
            "---- Setting 2 new environment variables ----\n",
            "env shop\n",
        ]
        sent = peer.deps.provisioner.sent[-1]  # type: ignore[attr-defined]
        assert (sent.command, sent.args, sent.event) == ("env", {"restart": True}, "")
        assert sent.app["env"]["A"] == "1"


def test_a_peer_asks_for_a_restart(mongo_client, namespace: str) -> None:  # type: ignore[no-untyped-def]
    """``POST /internal/apps/{app}/restart`` (the provisioner's volume bind): the restart
    command without an event, its lines relayed; nothing for an app without units."""
    from shared.client import InternalClient, RemoteError

    name = f"{namespace}_apps_restart_{secrets.token_hex(3)}"
    db = mongo_client[name]
    ensure_indexes(db, INDEXES)
    real = RealApps(db)
    try:
        client = InternalClient("apps", [real.url], secret=SECRET, caller="provisioner")
        real.add_app("idle", teams=["blue"], pool="p1", units=[])
        assert list(client.stream("POST", "/internal/apps/{}/restart", "idle", json={})) == []
        assert real.deps.provisioner.sent == []  # type: ignore[attr-defined]
        real.add_app("shop", teams=["blue"], pool="p1", units=[("u1", "10.0.0.7")])
        lines = list(client.stream("POST", "/internal/apps/{}/restart", "shop", json={}))
        said = [json.loads(line) for line in lines if line.strip()]
        assert [line["Message"] for line in said] == ["restart shop\n"]
        sent = real.deps.provisioner.sent[-1]  # type: ignore[attr-defined]
        assert (sent.command, sent.args, sent.event) == (
            "restart",
            {"process": "", "version": 0},
            "",
        )
        with pytest.raises(RemoteError) as err:
            list(client.stream("POST", "/internal/apps/{}/restart", "nope", json={}))
        assert (err.value.status, err.value.message) == (404, "App nope not found.")
    finally:
        real.close()
        mongo_client.drop_database(name)
