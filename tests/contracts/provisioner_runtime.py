"""What apps and the gateway need from the provisioner's runtime (docs/runtime.md): the
commands over the bus, the unit and route reads, unit agent relays, autoscale settings,
and the ``provisioner.routes.changed`` messages.

One suite, several runners: the provisioner runs it against its real web service and
worker (``services/provisioner/tests/integration/test_runtime_contract.py``); a context
that stands up a fake provisioner runs it against the fake, so the fake cannot drift. A
runner subclasses ``ProvisionerRuntimeContract`` and gives a ``peer`` fixture.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any, Protocol

import pytest

from shared.bus import Bus, keys
from shared.client import InternalClient, RemoteError

UNIT_KEYS = {
    "ID", "Name", "AppName", "ProcessName", "Type", "IP", "Status", "Address", "Addresses",
    "Version", "Routable", "Restarts", "CreatedAt", "Ready", "HostAddr", "HostPort",
}  # fmt: skip
ROUTE_KEYS = {"app", "hosts", "backends", "asleep", "seq"}


class ProvisionerPeer(Protocol):
    url: str  # base URL of the provisioner's web service
    secret: bytes  # the identity secret it verifies
    bus: Bus  # the namespace its command server listens on
    apps_domain: str

    def archive_url(self) -> str:
        """An http URL of a deployable archive (tests/apps/sample)."""


def client(peer: ProvisionerPeer) -> InternalClient:
    return InternalClient("provisioner", [peer.url], secret=peer.secret, caller="apps")


def app_spec(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "pool": "theonepool",
        "team_owner": "blue",
        "teams": ["blue"],
        "platform": "python",
        "platform_version": "",
        "plan": {"name": "c0.1m0.2", "memory": 0, "swap": 0, "cpumilli": 0, "cpushare": 0},
        "env": {"TSURU_APPNAME": name},
        "routers": [{"name": "tsubame", "opts": {}}],
        "cnames": [],
    }


def command(
    peer: ProvisionerPeer, name: str, app: str, args: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    body = {"command": name, "event": "", "request_id": "", "app": app_spec(app), "args": args}
    messages: list[str] = []
    final: dict[str, Any] = {}
    for reply in peer.bus.send_command("provisioner", body, timeout=180):
        if reply.get("final"):
            final = reply
        else:
            assert set(reply) == {"message"} and isinstance(reply["message"], str), reply
            messages.append(reply["message"])
    assert final.get("final") is True and isinstance(final.get("error"), str), final
    return messages, final


def new_app() -> str:
    return f"contract-{secrets.token_hex(3)}"


def deployed(peer: ProvisionerPeer) -> str:
    app = new_app()
    _, final = command(
        peer,
        "deploy",
        app,
        {"version": 1, "kind": "archive-url", "archive_url": peer.archive_url()},
    )
    assert final["error"] == "", final
    return app


class RouteWatch:
    """``provisioner.routes.changed`` messages, as the gateway follows them."""

    def __init__(self, bus: Bus) -> None:
        self.seen: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        queue = f"contract.routes.{secrets.token_hex(4)}"
        self._thread = threading.Thread(
            target=bus.consume,
            args=(queue, [keys.ROUTES_CHANGED], lambda _k, body: self.seen.append(body)),
            kwargs={"exclusive": True, "stop": self._stop, "on_ready": self._ready.set},
            daemon=True,
        )
        self._thread.start()
        assert self._ready.wait(10), "could not bind to the routes messages"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


class ProvisionerRuntimeContract:
    def test_deploy_answers_its_result_and_routes_the_app(self, peer: ProvisionerPeer) -> None:
        watch = RouteWatch(peer.bus)
        try:
            app = deployed(peer)
        finally:
            watch.close()
        table = client(peer).get("/internal/routes")
        assert isinstance(table["seq"], int)
        route = next(r for r in table["routes"] if r["app"] == app)
        assert set(route) == ROUTE_KEYS
        assert route["hosts"][0] == f"{app}.{peer.apps_domain}"
        assert route["backends"] and all(":" in b for b in route["backends"])
        assert route["seq"] <= table["seq"]
        assert client(peer).get("/internal/apps/{}/route", app) == route
        mine = [m for m in watch.seen if m["app"] == app]
        assert mine and mine[-1]["route"] == route and mine[-1]["seq"] == route["seq"]

    def test_units_in_tsurus_shape(self, peer: ProvisionerPeer) -> None:
        app = deployed(peer)
        units = client(peer).get("/internal/apps/{}/units", app)
        assert len(units) == 1 and set(units[0]) == UNIT_KEYS
        unit = units[0]
        assert (unit["AppName"], unit["ProcessName"], unit["Version"]) == (app, "web", 1)
        assert unit["Status"] == "started" and unit["Routable"] is True
        assert unit["Address"]["Host"] == f"{unit['HostAddr']}:{unit['HostPort']}"
        many = client(peer).post("/internal/units", json={"apps": [app, "nothing-here"]})
        assert many == {"units": {app: units, "nothing-here": []}}
        assert client(peer).get("/internal/apps/{}/units", "nothing-here") == []

    def test_refusals_carry_tsurus_text_and_status(self, peer: ProvisionerPeer) -> None:
        app = deployed(peer)
        _, final = command(peer, "units.remove", app, {"n": 5, "process": "web"})
        assert final["error"] == 'cannot remove 5 units from process "web", only 1 available'
        assert final["status"] == 400
        _, final = command(peer, "no-such-command", app, {})
        assert final["error"]
        _, final = command(peer, "run", app, {"command": "exit 3", "once": True})
        assert final["error"] == "unexpected exit code: 3"
        assert final["result"] == {"exit_code": 3}

    def test_unit_agent_relays(self, peer: ProvisionerPeer) -> None:
        app = deployed(peer)
        unit = client(peer).get("/internal/apps/{}/units", app)[0]["ID"]
        status = "/internal/apps/{}/units/{}/status"
        assert client(peer).post(status, app, unit[:12], json={"status": "started"}) == {}
        with pytest.raises(RemoteError) as err:
            client(peer).post(status, app, "nope", json={"status": "started"})
        assert (err.value.status, err.value.message) == (404, 'unit "nope" not found')
        with pytest.raises(RemoteError) as err:
            client(peer).post(status, app, unit, json={"status": "dancing"})
        assert (err.value.status, err.value.message) == (400, "invalid status")
        register = "/internal/apps/{}/units/register"
        answer = client(peer).post(register, app, json={"hostname": unit, "customdata": {}})
        assert answer == {}
        with pytest.raises(RemoteError) as err:
            client(peer).post(register, app, json={"hostname": "nope", "customdata": {}})
        assert err.value.status == 404
        found = client(peer).post(
            "/internal/node/status", json={"Units": [{"ID": unit}, {"ID": "nope"}]}
        )
        assert found == [{"ID": unit, "Found": True}, {"ID": "nope", "Found": False}]

    def test_autoscale_settings(self, peer: ProvisionerPeer) -> None:
        app = new_app()
        path = "/internal/apps/{}/autoscale"
        spec = {"process": "web", "minUnits": 1, "maxUnits": 3, "averageCPU": "70%", "version": 0}
        body = {"spec": spec, "quota_limit": 0, "plan": {"cpumilli": 0}}
        assert client(peer).post(path, app, json=body) == {}
        assert client(peer).get(path, app) == [spec]
        bad = {**body, "spec": {**spec, "minUnits": 0}}
        with pytest.raises(RemoteError) as err:
            client(peer).post(path, app, json=bad)
        assert err.value.status == 400
        assert err.value.message == (
            "unable to validate autoscale spec: minimum units must be greater than 0"
        )
        assert client(peer).delete(path, app, params={"process": "web"}) == {}
        assert client(peer).get(path, app) == []
