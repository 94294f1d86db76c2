"""The provisioner as the apps context's port sees it (``Provisioner`` in
services/apps/operations/deps.py, docs/runtime.md): placement, units, the command
stream, the unit agent's relays and autoscale settings.

One suite, two runners, so the two sides of the seam cannot drift apart: the apps
adapter over the real provisioner web service and worker
(``tests/seams/test_apps_provisioner.py``), and the fake the apps unit tests stand on
(``services/apps/tests/unit/test_fake_provisioner_contract.py``). The provisioner's own
wire-level suite is tests/contracts/provisioner_runtime.py.
"""

from __future__ import annotations

import secrets
from typing import Any, Protocol

import pytest

from shared.errors import TsubameError

PLACEMENT_REQUEST = {
    "team_owner": "",
    "pool": "",
    "plan": "",
    "router": "",
    "routeropts": {},
    "platform": "",
}


class PortPeer(Protocol):
    # The port under test (services.apps.operations.deps.Provisioner).
    provisioner: Any

    def archive_url(self) -> str:
        """An http URL of a deployable archive (tests/apps/sample)."""


def new_app() -> str:
    return f"seam-{secrets.token_hex(3)}"


def spec(peer: PortPeer, name: str) -> dict[str, Any]:
    """The AppSpec apps sends, placed where the provisioner says a new app goes."""
    placed = peer.provisioner.placement(dict(PLACEMENT_REQUEST))
    return {
        "name": name,
        "pool": placed.pool,
        "team_owner": "blue",
        "teams": ["blue"],
        "platform": "python",
        "platform_version": "",
        "plan": dict(placed.plan),
        "env": {"TSURU_APPNAME": name},
        "routers": placed.routers,
        "cnames": [],
    }


def run(
    peer: PortPeer, command: str, app: str, args: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    """Every reply but the last is a message; the last is the final one."""
    replies = list(peer.provisioner.command(command, spec(peer, app), args))
    assert replies, "a command answers at least its final reply"
    *messages, final = replies
    for reply in messages:
        assert set(reply) == {"message"} and isinstance(reply["message"], str), reply
    assert final.get("final") is True and isinstance(final.get("error"), str), final
    return [m["message"] for m in messages], final


def deployed(peer: PortPeer) -> str:
    app = new_app()
    args = {"version": 1, "kind": "archive-url", "archive_url": peer.archive_url()}
    _, final = run(peer, "deploy", app, args)
    assert final["error"] == "", final
    return app


def refusal(call: Any, *args: Any) -> tuple[int, str]:
    with pytest.raises(TsubameError) as err:
        call(*args)
    return err.value.status, err.value.message


class AppsProvisionerPortContract:
    def test_a_new_app_is_placed_on_the_defaults(self, peer: PortPeer) -> None:
        placed = peer.provisioner.placement(dict(PLACEMENT_REQUEST))
        assert placed.pool and placed.provisioner
        assert {"name", "memory", "swap", "cpushare"} <= set(placed.plan)
        assert len(placed.routers) == 1 and {"name", "opts"} <= set(placed.routers[0])
        assert placed.routers[0]["opts"] == {}
        without = peer.provisioner.placement({**PLACEMENT_REQUEST, "router": "none"})
        assert without.routers == []

    @pytest.mark.parametrize(
        ("field", "message"),
        [
            ("pool", "Pool does not exist."),
            ("plan", "plan not found"),
            ("router", 'router "nope-x" not found'),
            ("platform", "Invalid platform"),
        ],
    )
    def test_placement_refusals_are_tsurus(self, peer: PortPeer, field: str, message: str) -> None:
        request = {**PLACEMENT_REQUEST, field: "nope-x"}
        assert refusal(peer.provisioner.placement, request) == (400, message)

    def test_an_app_without_units_has_none(self, peer: PortPeer) -> None:
        name = new_app()
        assert peer.provisioner.units([name])[name].units == []

    def test_a_deploy_streams_then_answers_its_result(self, peer: PortPeer) -> None:
        app = new_app()
        args = {"version": 1, "kind": "archive-url", "archive_url": peer.archive_url()}
        _, final = run(peer, "deploy", app, args)
        assert final["error"] == ""
        result = final["result"]
        assert set(result) >= {"version", "image", "processes", "custom_data"}
        assert result["version"] == 1 and "web" in result["processes"]
        units = peer.provisioner.units([app])[app].units
        assert len(units) == 1
        assert (units[0]["AppName"], units[0]["ProcessName"], units[0]["Version"]) == (
            app,
            "web",
            1,
        )

    def test_a_refused_command_carries_tsurus_text_and_status(self, peer: PortPeer) -> None:
        app = deployed(peer)
        _, final = run(peer, "units.remove", app, {"n": 5, "process": "web"})
        assert final["error"] == 'cannot remove 5 units from process "web", only 1 available'
        assert final["status"] == 400
        _, final = run(peer, "units.add", app, {"n": 1, "process": "web"})
        assert final["error"] == ""
        assert len(peer.provisioner.units([app])[app].units) == 2

    def test_unit_agent_relays(self, peer: PortPeer) -> None:
        app = deployed(peer)
        unit = peer.provisioner.units([app])[app].units[0]["ID"]
        peer.provisioner.unit_status(app, unit, "started")
        assert refusal(peer.provisioner.unit_status, app, "nope", "started") == (
            404,
            'unit "nope" not found',
        )
        assert refusal(peer.provisioner.unit_status, app, unit, "dancing") == (
            400,
            "invalid status",
        )
        peer.provisioner.register_unit(app, unit, {})
        status, _ = refusal(peer.provisioner.register_unit, app, "nope", {})
        assert status == 404
        found = peer.provisioner.node_status({"Units": [{"ID": unit}, {"ID": "nope"}]})
        assert found == [{"ID": unit, "Found": True}, {"ID": "nope", "Found": False}]

    def test_autoscale_settings(self, peer: PortPeer) -> None:
        app = new_app()
        spec = {"process": "web", "minUnits": 1, "maxUnits": 3, "averageCPU": "70%", "version": 0}
        peer.provisioner.set_autoscale(app, spec, 0, {"cpumilli": 0})
        assert peer.provisioner.autoscale(app) == [spec]
        bad = {**spec, "minUnits": 0}
        assert refusal(peer.provisioner.set_autoscale, app, bad, 0, {"cpumilli": 0}) == (
            400,
            "unable to validate autoscale spec: minimum units must be greater than 0",
        )
        peer.provisioner.remove_autoscale(app, "web")
        assert peer.provisioner.autoscale(app) == []
