"""Unit operations, autoscale, node status and the shell on fakes (apps.md §8, §9.2)."""

from __future__ import annotations

import queue

import pytest

from services.apps.operations import shell
from services.apps.operations.deps import ShellOptions
from services.apps.tests.fakes import FakeShell
from services.apps.tests.unit.conftest import admin, app_token, call, user
from services.apps.tests.unit.deploy_support import lines, world
from shared.identity import Identity


def test_add_units_checks_the_number_before_the_permission() -> None:
    w = world()
    nobody = user("n@example.com")
    r = call(w.app, "PUT", "/apps/shop/units", nobody, data={})
    assert (r.status_code, r.text) == (400, "You must provide the number of units.\n")
    for bad in ("0", "-1", "x", "1.5", "4294967296", "٣"):
        r = call(w.app, "PUT", "/apps/shop/units", nobody, data={"units": bad})
        assert (r.status_code, r.text) == (
            400, "Invalid number of units: the number must be an integer greater than 0.\n",
        ), bad  # fmt: skip
    assert call(w.app, "PUT", "/apps/shop/units", nobody, data={"units": "2"}).status_code == 403


def test_add_and_remove_units_stream_the_provisioners_lines() -> None:
    w = world()
    w.add_version(1)
    r = call(w.app, "PUT", "/apps/shop/units", admin(),
             data={"units": "3", "process": "web", "version": "v1"})  # fmt: skip
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-json-stream"
    assert [x["Message"] for x in lines(r)] == ["units.add shop\n"]
    sent = w.provisioner.sent[-1]
    assert (sent.command, sent.args) == ("units.add", {"process": "web", "version": 1, "n": 3})
    event = w.events("app.update.unit.add")[-1]
    assert event.cancelable and event.unique_id == sent.event
    r = call(w.app, "DELETE", "/apps/shop/units?units=2&process=web", admin())
    assert r.status_code == 200
    assert w.provisioner.sent[-1].args == {"process": "web", "version": 0, "n": 2}
    r = call(w.app, "PUT", "/apps/shop/units", admin(), data={"units": "1", "version": "7"})
    assert (r.status_code, r.text) == (400, "Invalid version: 7\n")


def test_app_quota_limits_added_units() -> None:
    w = world(quota_limit=3)
    w.provisioner.units_by_app["shop"] = [
        {"ID": "a", "Status": "started"}, {"ID": "b", "Status": "stopped"},
        {"ID": "c", "Status": "error"},  # not counted
    ]  # fmt: skip
    r = call(w.app, "PUT", "/apps/shop/units", admin(), data={"units": "2"})
    assert (r.status_code, r.text) == (400, "Quota exceeded. Available: 1, Requested: 2.\n")
    assert w.provisioner.sent == []
    assert call(w.app, "PUT", "/apps/shop/units", admin(), data={"units": "1"}).status_code == 200


@pytest.mark.parametrize("action", ["restart", "start", "stop"])
def test_lifecycle_commands(action: str) -> None:
    w = world()
    r = call(w.app, "POST", f"/apps/shop/{action}", admin(), data={"process": "worker"})
    assert r.status_code == 200 and [x["Message"] for x in lines(r)] == [f"{action} shop\n"]
    sent = w.provisioner.sent[-1]
    assert (sent.command, sent.args) == (action, {"process": "worker", "version": 0})
    assert w.events(f"app.update.{action}")[-1].cancelable
    r = call(
        w.app, "POST", f"/apps/shop/{action}", user("x@example.com", ("app.read", "global", ""))
    )
    assert (r.status_code, r.text) == (403, "You don't have permission to do this action\n")


def test_failure_midway_is_an_error_line() -> None:
    w = world()
    w.provisioner.command_error = "\n---- ERROR during restart: ----\nunit crashed\n"
    r = call(w.app, "POST", "/apps/shop/restart", admin())
    assert r.status_code == 200
    got = lines(r)
    assert got[0]["Message"] == "restart shop\n"
    assert got[-1]["Message"] == "" and got[-1]["Error"].endswith("unit crashed\n")


def test_sleep_needs_a_proxy() -> None:
    w = world()
    r = call(w.app, "POST", "/apps/shop/sleep", admin(), data={})
    assert (r.status_code, r.text) == (400, "Empty proxy URL\n")
    r = call(w.app, "POST", "/apps/shop/sleep", admin(), data={"proxy": "http://sleep.example/"})
    assert r.status_code == 200
    assert w.provisioner.sent[-1].args["proxy"] == "http://sleep.example/"
    assert not w.events("app.update.sleep")[-1].cancelable


def test_run() -> None:
    w = world()
    r = call(w.app, "POST", "/apps/shop/run", admin(), data={})
    assert (r.status_code, r.text) == (400, "You must provide the command to run\n")
    r = call(w.app, "POST", "/apps/shop/run", admin(),
             data={"command": "ls -la", "once": "true", "isolated": "nope"})  # fmt: skip
    assert r.status_code == 200
    assert w.provisioner.sent[-1].args == {"command": "ls -la", "once": True, "isolated": False}
    assert w.events("app.run")[-1].start_custom_data[0] == {"name": "command", "value": "ls -la"}


def test_autoscale_routes() -> None:
    w = world()
    url = "/apps/shop/units/autoscale"
    r = call(w.app, "GET", url, admin())
    assert (r.status_code, r.text) == (200, "null\n")
    spec = {"process": "web", "minUnits": 1, "maxUnits": 3, "averageCPU": "70%", "version": 0}
    r = call(w.app, "POST", url, admin(), json=spec)
    assert r.status_code == 200
    assert call(w.app, "GET", url, admin()).json == [spec]
    r = call(w.app, "POST", url, admin(), json={**spec, "minUnits": "many"})
    assert r.status_code == 400 and r.text.startswith("unable to parse autoscale spec: ")
    r = call(w.app, "POST", url, admin(), json={**spec, "minUnits": 0})
    assert r.text == "unable to validate autoscale spec: minimum units must be greater than 0\n"
    assert call(w.app, "DELETE", f"{url}?process=web", admin()).status_code == 200
    assert call(w.app, "GET", url, admin()).text == "null\n"
    kinds = [e.kind.name for e in w.recorder.records]
    assert "app.update.unit.autoscale.add" in kinds and "app.update.unit.autoscale.remove" in kinds


def test_node_status_is_for_the_internal_token_only() -> None:
    w = world()
    w.provisioner.known_units = {"u1"}
    report = {"Addrs": ["10.0.0.5"], "Units": [{"ID": "u1", "Status": "started"},
              {"ID": "u2", "Status": "error"}], "Checks": []}  # fmt: skip
    r = call(w.app, "POST", "/node/status", admin(), json=report)
    assert (r.status_code, r.text) == (403, "this token is not allowed to execute this action\n")
    r = call(w.app, "POST", "/node/status", app_token("tsr"), json=report)
    assert r.status_code == 200
    assert r.json == [{"ID": "u1", "Found": True}, {"ID": "u2", "Found": False}]
    r = call(w.app, "POST", "/node/status", app_token("tsr"),
             data={"Addrs.0": "10.0.0.5", "Units.0.ID": "u1", "Units.0.Status": "started"})  # fmt: skip
    assert r.json == [{"ID": "u1", "Found": True}]


class FakeTerminal:
    def __init__(self, typed: list[str]) -> None:
        self.inbox: queue.Queue[str | None] = queue.Queue()
        for t in typed:
            self.inbox.put(t)
        self.sent: list[str] = []
        self.closed = False

    def send_text(self, text: str) -> None:
        self.sent.append(text)

    def receive(self) -> str | bytes:
        item = self.inbox.get(timeout=5)
        if item is None:
            raise ConnectionError("closed")
        return item

    def ping(self, data: bytes = b"") -> None:
        pass

    def idle(self) -> float:
        return 0.0

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = True
        self.inbox.put(None)


@pytest.mark.parametrize(
    "identity,app,text",
    [
        (None, "shop", "Error: no token provided or session expired, please login again\n"),
        (user("a@example.com", ("app.run.shell", "global", "")), "nope", "Error: App nope not found.\n"),
        (user("b@example.com", ("app.run", "team", "red")), "shop",
         "Error: You don't have permission to do this action\n"),
    ],
)  # fmt: skip
def test_shell_refusals_come_as_a_frame(identity: Identity | None, app: str, text: str) -> None:
    w = world()
    term = FakeTerminal([])
    shell.shell(w.deps, identity, app, ShellOptions(), term)
    assert term.sent == [text] and term.closed
    assert w.provisioner.shells == []


def test_shell_relays_both_ways_and_logs_typed_lines() -> None:
    w = world()
    term = FakeTerminal(["ls -la\n", "exit\n"])
    opts = ShellOptions(unit="shop-web-1", width=80, height=24, term="xterm")
    shell.shell(
        w.deps, user("a@example.com", ("app.run.shell", "team", "blue")), "shop", opts, term
    )
    assert w.provisioner.shells == [("shop", opts)]
    assert term.sent[0] == "$ " and "echo: ls -la\n" in term.sent
    assert term.closed
    event = w.events("app.run.shell")[-1]
    assert not event.lock and "> ls -la\n" in event.log and "> exit\n" in event.log


def test_shell_without_a_websocket_handshake_is_400() -> None:
    w = world()
    r = call(w.app, "GET", "/apps/shop/shell", admin())
    assert (r.status_code, r.text) == (400, "websocket: this server cannot upgrade connections\n")


def test_fake_shell_ends_on_exit() -> None:
    fake = FakeShell(b"> ")
    assert fake.recv() == b"> "
    fake.send(b"exit\n")
    assert fake.recv() == b""
