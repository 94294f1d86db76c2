"""What the catalog needs from the apps context (docs/runtime.md "Service bindings").

One suite, two runners: the catalog runs it against its fake apps peer, the apps
context against the real apps service, so the fake cannot drift from the real thing.
A runner subclasses ``AppsForCatalogContract`` and gives a ``peer`` fixture
(``AppsPeer``): the base URL of a running apps service (or fake), the identity secret
it verifies, and two hooks to seed and inspect app records.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import pytest

from shared.client import InternalClient, RemoteError

ENVS = "/internal/apps/{}/service-envs"


class AppsPeer(Protocol):
    url: str
    secret: bytes

    def add_app(
        self, name: str, *, teams: list[str], pool: str, units: list[tuple[str, str]]
    ) -> None:
        """An app owned by ``teams[0]``, with these ``(unit id, ip)`` units."""

    def service_envs(self, app: str) -> list[dict[str, str]]:
        """The app's stored service env vars in order: ``{name, value, service, instance}``."""


def client(peer: AppsPeer) -> InternalClient:
    return InternalClient("apps", [peer.url], secret=peer.secret, caller="catalog")


def messages(lines: list[bytes]) -> list[str]:
    out = []
    for raw in lines:
        if not raw.strip():
            continue
        obj = json.loads(raw)
        assert "Error" not in obj, obj
        out.append(obj["Message"])
    return out


def set_envs(peer: AppsPeer, app: str, envs: dict[str, str], restart: bool = False) -> list[str]:
    body: dict[str, Any] = {"service": "mysql", "instance": "db1", "envs": envs}
    body["restart"] = restart
    return messages(list(client(peer).stream("POST", ENVS, app, json=body)))


def unset_envs(peer: AppsPeer, app: str, restart: bool = False) -> list[str]:
    params = {"service": "mysql", "instance": "db1", "restart": str(restart).lower()}
    return messages(list(client(peer).stream("DELETE", ENVS, app, params=params)))


class AppsForCatalogContract:
    def test_app_lookup(self, peer: AppsPeer) -> None:
        peer.add_app("shop", teams=["blue", "red"], pool="p1", units=[("u1", "10.0.0.7")])
        app = client(peer).get("/internal/apps/{}", "shop")
        assert app["name"] == "shop"
        assert app["teams"] == ["blue", "red"] and app["team_owner"] == "blue"
        assert app["pool"] == "p1"
        assert isinstance(app["addresses"], list)
        assert all(isinstance(a, str) for a in app["addresses"])
        assert isinstance(app.get("internal_addresses", []), list)
        assert [(u["id"], u["ip"]) for u in app["units"]] == [("u1", "10.0.0.7")]

    def test_unknown_app(self, peer: AppsPeer) -> None:
        with pytest.raises(RemoteError) as err:
            client(peer).get("/internal/apps/{}", "nope")
        assert err.value.status == 404 and err.value.message == "App nope not found."
        for method, kw in (
            ("POST", {"json": {"service": "s", "instance": "i", "envs": {"A": "1"}}}),
            ("DELETE", {"params": {"service": "s", "instance": "i"}}),
        ):
            with pytest.raises(RemoteError) as err:
                list(client(peer).stream(method, ENVS, "nope", **kw))
            assert err.value.status == 404 and err.value.message == "App nope not found."

    def test_set_envs_sorted_with_tsuru_count(self, peer: AppsPeer) -> None:
        peer.add_app("shop", teams=["blue"], pool="p1", units=[])
        assert set_envs(peer, "shop", {"DB_USER": "u", "DB_HOST": "h"}, restart=True) == [
            "---- Setting 3 new environment variables ----\n"
        ]
        assert peer.service_envs("shop") == [
            {"name": "DB_HOST", "value": "h", "service": "mysql", "instance": "db1"},
            {"name": "DB_USER", "value": "u", "service": "mysql", "instance": "db1"},
        ]

    def test_set_envs_again_replaces_them(self, peer: AppsPeer) -> None:
        # The catalog may repeat a step (a retried or undone pipeline): no duplicates.
        peer.add_app("shop", teams=["blue"], pool="p1", units=[])
        set_envs(peer, "shop", {"A": "1", "B": "2"})
        set_envs(peer, "shop", {"A": "3"})
        assert peer.service_envs("shop") == [
            {"name": "A", "value": "3", "service": "mysql", "instance": "db1"}
        ]

    def test_no_envs_writes_nothing(self, peer: AppsPeer) -> None:
        peer.add_app("shop", teams=["blue"], pool="p1", units=[("u1", "10.0.0.7")])
        assert set_envs(peer, "shop", {}, restart=True) == []
        assert peer.service_envs("shop") == []

    def test_unset_envs_counts_and_is_idempotent(self, peer: AppsPeer) -> None:
        peer.add_app("shop", teams=["blue"], pool="p1", units=[])
        set_envs(peer, "shop", {"A": "1", "B": "2"})
        assert unset_envs(peer, "shop", restart=True) == [
            "---- Unsetting 2 environment variables ----\n"
        ]
        assert peer.service_envs("shop") == []
        assert unset_envs(peer, "shop", restart=True) == []

    def test_other_instances_keep_their_vars_and_order(self, peer: AppsPeer) -> None:
        peer.add_app("shop", teams=["blue"], pool="p1", units=[])
        other = {"service": "redis", "instance": "cache", "envs": {"R": "r"}, "restart": False}
        list(client(peer).stream("POST", ENVS, "shop", json=other))
        set_envs(peer, "shop", {"A": "1"})
        assert [e["name"] for e in peer.service_envs("shop")] == ["R", "A"]
        unset_envs(peer, "shop")
        assert peer.service_envs("shop") == [
            {"name": "R", "value": "r", "service": "redis", "instance": "cache"}
        ]
