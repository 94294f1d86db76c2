"""Plans, platforms and routers over HTTP on fakes."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from services.provisioner.domain.errors import RuntimeFailed
from services.provisioner.domain.models import Node, Pool
from services.provisioner.operations.deps import AppRef, Deps
from services.provisioner.tests.fakes import FakeRuntimeCommands
from services.provisioner.tests.unit.conftest import Caller, user
from shared.bus import keys
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder


def lines(resp) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(x) for x in resp.get_data(as_text=True).splitlines() if x.strip()]


def test_plans(call: Caller, events: FakeRecorder) -> None:
    listed = call("GET", "/plans", who=user()).json
    assert [p["name"] for p in listed] == sorted(p["name"] for p in listed)
    default = next(p for p in listed if p["name"] == "c0.1m0.2")
    assert default == {"name": "c0.1m0.2", "memory": 268435456, "swap": 0, "cpushare": 0,
                       "cpumilli": 100, "default": True,
                       "override": {"memory": None, "cpumilli": None}}  # fmt: skip
    assert "default" not in next(p for p in listed if p["name"] == "c1m1")
    resp = call("POST", "/plans", data={"name": "big", "memory": "512M", "swap": "1Gi",
                                        "cpumilli": "x", "default": "true"})  # fmt: skip
    assert resp.status_code == 201
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert json.loads(resp.data) == {"name": "big", "memory": 536870912, "swap": 1073741824,
                                     "cpushare": 0, "cpumilli": 0, "default": True,
                                     "override": {"memory": None, "cpumilli": None}}  # fmt: skip
    assert [p["name"] for p in call("GET", "/plans").json if p.get("default")] == ["big"]
    assert events.records[-1].kind.name == "plan.create"
    resp = call("POST", "/plans", data={"name": "big"})
    assert (resp.status_code, resp.text) == (409, "plan already exists\n")
    assert call("POST", "/plans", data={"name": "s", "memory": "1024"}).text == (
        "The minimum allowed memory is 4MB\n"
    )
    assert call("POST", "/plans", data={"name": "s", "cpushare": "1"}).status_code == 400
    assert call("POST", "/plans", data={}).text == "invalid value for name\n"
    assert call("POST", "/plans", data={"name": "z"}, who=user("plan.delete")).status_code == 403
    assert call("DELETE", "/plans/big").status_code == 200
    resp = call("DELETE", "/plans/big")
    assert (resp.status_code, resp.text) == (404, "plan not found\n")


def _upload(content: bytes = b"FROM python:3\n", name: str = "go") -> dict:
    return {"name": name, "dockerfile_content": (io.BytesIO(content), "Dockerfile")}


def test_platform_add_update_rollback(call: Caller, deps: Deps, events: FakeRecorder) -> None:
    resp = call("POST", "/platforms", data=_upload())
    assert resp.status_code == 200
    assert resp.mimetype == "application/x-json-stream"
    out = lines(resp)
    assert out[-1]["Message"] == "Platform successfully added!\n"
    assert any("---- Storing version 1 of platform go ----" in x["Message"] for x in out)
    info = call("GET", "/platforms/go").json
    assert info == {"platform": {"Name": "go", "Disabled": False}, "images": ["tsuru/go:v1"]}
    stored = deps.stores.platforms.get("go")
    assert stored is not None and stored.versions[0].dockerfile == "FROM python:3\n"
    assert events.records[-1].kind.name == "platform.create" and events.records[-1].cancelable
    resp = call("PUT", "/platforms/go", data={"dockerfile_content": (io.BytesIO(b"FROM x"), "D")})
    assert lines(resp)[-1]["Message"] == "Platform successfully updated!\n"
    assert call("GET", "/platforms/go").json["images"] == ["tsuru/go:v1", "tsuru/go:v2"]
    published: RecordingPublisher = deps.publisher  # type: ignore[assignment]
    assert (keys.PLATFORM_CHANGED, {"platform": "go", "version": 2}) in published
    resp = call("POST", "/platforms/go/rollback", data={"image": "tsuru/go:v1"})
    assert lines(resp)[-1]["Message"] == "Platform successfully updated!\n"
    assert deps.stores.platforms.get("go").versions[-1].dockerfile == "FROM tsuru/go:v1\n"  # type: ignore[union-attr]
    assert events.records[-1].kind.name == "platform.update"
    resp = call("POST", "/platforms/go/rollback", data={"image": "9"})
    assert (resp.status_code, resp.text) == (404, 'version 9 of platform "go" not found\n')
    resp = call("POST", "/platforms/go/rollback", data={"image": "tsuru/go:latest"})
    assert (resp.status_code, resp.text) == (400, 'invalid image version "tsuru/go:latest"\n')
    resp = call("POST", "/platforms/go/rollback")
    assert resp.text == "you cannot rollback without an image name\n"


def test_platform_add_errors(call: Caller, events: FakeRecorder) -> None:
    resp = call("POST", "/platforms", data={"name": "x"})
    assert (resp.status_code, resp.text) == (
        400,
        "request Content-Type isn't multipart/form-data\n",
    )
    resp = call("POST", "/platforms", data={"name": "x", "other": (io.BytesIO(b"a"), "f")})
    assert (resp.status_code, resp.text) == (400, "http: no such file\n")
    resp = call("POST", "/platforms", data=_upload(b""))
    assert (resp.status_code, resp.text) == (400, "Missing file content.\n")
    resp = call("POST", "/platforms", data=_upload(), who=user("platform.update"))
    assert resp.status_code == 403
    resp = call("POST", "/platforms", data=_upload(name="Bad"))
    assert resp.status_code == 400 and resp.text.startswith("Invalid platform name")
    resp = call("POST", "/platforms", data=_upload(name=""))
    assert (resp.status_code, resp.text) == (400, "Platform name is required.\n")
    resp = call("POST", "/platforms", data=_upload(name="python"))
    assert (resp.status_code, resp.text) == (400, "Duplicate platform\n")
    assert events.records[-1].error == "Duplicate platform"


def test_platform_disable_list_and_remove(call: Caller, apps, deps: Deps) -> None:  # type: ignore[no-untyped-def]
    assert lines(call("PUT", "/platforms/static", data={"disabled": "true"}))
    assert [p["Name"] for p in call("GET", "/platforms", who=user()).json] == ["python"]
    assert call("GET", "/platforms").json == [
        {"Name": "python", "Disabled": False}, {"Name": "static", "Disabled": True},
    ]  # fmt: skip
    resp = call("PUT", "/platforms/static", data={"disabled": "maybe"})
    assert (resp.status_code, resp.text) == (
        400, 'strconv.ParseBool: parsing "maybe": invalid syntax\n',
    )  # fmt: skip
    resp = call("PUT", "/platforms/nope", data={"disabled": "true"})
    assert (resp.status_code, resp.text) == (404, "Platform doesn't exist.\n")
    assert call("GET", "/platforms/python", who=user("platform.read")).status_code == 200
    assert call("GET", "/platforms/python", who=user("app.read")).status_code == 403
    assert call("GET", "/platforms/nope").status_code == 404
    apps.apps["a"] = AppRef("a", platform="python")
    resp = call("DELETE", "/platforms/python")
    assert resp.status_code == 400 and resp.text.startswith("Platform has apps.")
    assert call("DELETE", "/platforms/static").status_code == 200
    assert call("DELETE", "/platforms/static").status_code == 404


def test_routers(call: Caller) -> None:
    listed = call("GET", "/routers").json
    assert listed == [{"name": "tsubame", "type": "gateway", "info": None, "config": None,
                       "readinessGates": None, "dynamic": False, "default": True}]  # fmt: skip
    assert call("GET", "/plans/routers").json == listed
    resp = call("POST", "/routers", json={"name": "r1", "type": "gateway",
                                          "config": {"domain": "x.example.com"}})  # fmt: skip
    assert resp.status_code == 201
    resp = call("POST", "/routers", json={"name": "r1", "type": "gateway"})
    assert (resp.status_code, resp.text) == (409, "dynamic router already exists\n")
    resp = call("POST", "/routers", json={"name": "r2", "type": "api"})
    assert (resp.status_code, resp.text) == (400, 'router type "api" is not registered\n')
    resp = call("POST", "/routers", json={"name": "tsubame", "type": "gateway"})
    assert resp.text == 'router named "tsubame" already exists in config\n'
    assert call("POST", "/routers", json={"type": "gateway"}).text == (
        "dynamic router name and type are required\n"
    )
    assert call("PUT", "/routers/r1", json={"config": {"domain": None, "a": 1}}).status_code == 200
    r1 = next(r for r in call("GET", "/routers").json if r["name"] == "r1")
    assert r1 == {"name": "r1", "type": "gateway", "info": None, "config": {"a": 1},
                  "readinessGates": None, "dynamic": True, "default": False}  # fmt: skip
    viewer = user(("app.create", "team", "blue"))
    assert all(r["config"] is None for r in call("GET", "/routers", who=viewer).json)
    assert call("PUT", "/routers/nope", json={}).status_code == 404
    scoped = user(("router.delete", "router", "r1"))
    assert call("DELETE", "/routers/r1", who=scoped).status_code == 200
    assert call("DELETE", "/routers/r1").status_code == 404


class _FailingCommands(FakeRuntimeCommands):
    def run(self, command: str, args: dict, out: Any) -> dict:  # type: ignore[type-arg]
        super().run(command, args, out)
        raise RuntimeFailed("image build failed: FROM nosuch:1: no such image on node n1")


def _docker_pool(deps: Deps) -> None:
    """A docker pool with one registered node (the platform builds go to its worker)."""
    deps.config = replace(deps.config, provisioners=("process", "docker"))
    deps.stores.pools.add(Pool("dock", provisioner="docker"))
    deps.stores.nodes.add(Node("http://10.0.0.9:2375", "docker", "dock", "waiting"))


def test_platform_builds_run_on_the_docker_nodes_and_a_failure_keeps_nothing(
    call: Caller, deps: Deps
) -> None:
    _docker_pool(deps)
    worker = FakeRuntimeCommands(lines=["STEP 1/2: FROM tsubame/python:latest\n"])
    deps.runtime_commands = worker
    out = lines(call("POST", "/platforms", data=_upload(b"FROM tsubame/python:latest\n", "gd")))
    assert [x["Message"] for x in out] == [
        "STEP 1/2: FROM tsubame/python:latest\n", " ---> tsuru/gd:v1\n",
        "Platform successfully added!\n"]  # fmt: skip
    assert [(c, {**a, "event": "id"}) for c, a in worker.calls] == [
        ("platform.build", {"platform": "gd", "version": 1, "event": "id"})]  # fmt: skip
    # The worker is told the event: it stops the build once a cancel of it is asked.
    assert isinstance(deps.recorder, FakeRecorder)
    (event,) = [e for e in deps.recorder.records if e.target.value == "gd"]
    assert worker.calls[0][1]["event"] == str(event.id)
    deps.runtime_commands = _FailingCommands(lines=["STEP 1/1: FROM nosuch:1\n"])
    resp = call("PUT", "/platforms/gd", data={"dockerfile_content": (io.BytesIO(b"FROM nosuch:1"),
                                                                     "D")})  # fmt: skip
    out = lines(resp)
    assert out[-1]["Error"].startswith("image build failed: FROM nosuch:1"), out
    assert call("GET", "/platforms/gd").json["images"] == ["tsuru/gd:v1"]
    resp = call("POST", "/platforms", data=_upload(b"FROM nosuch:1\n", "ge"))
    assert "Error" in lines(resp)[-1]
    assert call("GET", "/platforms/ge").status_code == 404


class _CanceledCommands(FakeRuntimeCommands):
    """A build canceled while the worker runs it: the cancel asked on the event, the
    worker's build stopped."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(lines=["STEP 1/2: FROM tsubame/python:latest\n"])
        self.deps = deps

    def run(self, command: str, args: dict, out: Any) -> dict:  # type: ignore[type-arg]
        super().run(command, args, out)
        assert isinstance(self.deps.recorder, FakeRecorder)
        assert self.deps.recorder.memory.request_cancel(ObjectId(args["event"]), owner="root@example.com",
                                      reason="too slow", when=datetime.now(UTC))  # fmt: skip
        raise RuntimeFailed("deploy canceled by user action")


def test_a_platform_build_canceled_while_it_runs_keeps_nothing(call: Caller, deps: Deps) -> None:
    _docker_pool(deps)
    deps.runtime_commands = _CanceledCommands(deps)
    out = lines(call("POST", "/platforms", data=_upload(b"FROM tsubame/python:latest\n", "gc")))
    assert out[-1]["Error"] == "canceled by user request", out
    assert call("GET", "/platforms/gc").status_code == 404
    deps.runtime_commands = FakeRuntimeCommands()
    assert "Error" not in lines(call("POST", "/platforms", data=_upload(b"FROM x\n", "gc")))[-1]
    deps.runtime_commands = _CanceledCommands(deps)
    resp = call("PUT", "/platforms/gc", data={"dockerfile_content": (io.BytesIO(b"FROM y"), "D")})
    assert lines(resp)[-1]["Error"] == "canceled by user request"
    stored = deps.stores.platforms.get("gc")
    assert stored is not None and [v.version for v in stored.versions] == [1]


def test_a_platform_removed_while_its_update_starts_builds_nothing(
    call: Caller, deps: Deps
) -> None:
    _docker_pool(deps)
    deps.runtime_commands = FakeRuntimeCommands()
    assert "Error" not in lines(call("POST", "/platforms", data=_upload(b"FROM x\n", "gr")))[-1]
    worker = FakeRuntimeCommands()
    deps.runtime_commands = worker
    store = deps.stores.platforms
    taken = store.next_version

    def removed_meanwhile(name: str) -> int:
        number = taken(name)
        store.delete(name)  # a platform-remove between the two writes
        return number

    store.next_version = removed_meanwhile  # type: ignore[method-assign]
    resp = call("PUT", "/platforms/gr", data={"dockerfile_content": (io.BytesIO(b"FROM y"), "D")})
    assert (resp.status_code, resp.get_data(as_text=True)) == (404, "Platform doesn't exist.\n")
    assert worker.calls == []
    assert store.get("gr") is None


def test_a_platform_removal_asks_the_worker_to_remove_its_images_and_succeeds_anyway(
    call: Caller, deps: Deps
) -> None:
    _docker_pool(deps)
    deps.runtime_commands = FakeRuntimeCommands()
    for name in ("gone", "lost"):
        assert lines(call("POST", "/platforms", data=_upload(b"FROM tsubame/python:latest\n",
                                                               name)))[-1]["Message"]  # fmt: skip
        resp = call("PUT", f"/platforms/{name}", data={
            "dockerfile_content": (io.BytesIO(b"FROM tsubame/python:latest\n"), "D")})  # fmt: skip
        assert "Error" not in lines(resp)[-1]
    worker = FakeRuntimeCommands()
    deps.runtime_commands = worker
    assert call("DELETE", "/platforms/gone").status_code == 200
    assert worker.calls == [
        ("platform.remove", {"platform": "gone", "images": ["tsuru/gone:v1", "tsuru/gone:v2"]})
    ]
    # No worker answer: the platform is removed all the same (its images by the sweep).
    deps.runtime_commands = _FailingCommands()
    assert call("DELETE", "/platforms/lost").status_code == 200
    assert call("GET", "/platforms/lost").status_code == 404


def test_platform_images_carry_the_stack_namespace_with_docker_and_older_names_stay(
    call: Caller, deps: Deps
) -> None:
    from services.provisioner.bootstrap import config_from
    from services.provisioner.domain.models import Platform, PlatformVersion
    from services.provisioner.operations import platforms
    from shared.settings import Settings

    def settings(provisioners: str) -> Settings:
        return Settings("/tmp/x", "Tsubame_1A2b3c", "mongodb://x", "amqp://x", b"s" * 16,
                        extra={"TSUBAME_PROVISIONERS": provisioners})  # fmt: skip

    assert config_from(settings("process,docker")).image_namespace == "tsubame-1a2b3c"
    assert config_from(settings("process")).image_namespace == ""  # builds no image
    deps.config = replace(deps.config, provisioners=("process", "docker"),
                          image_namespace="stack-a")  # fmt: skip
    deps.stores.pools.add(Pool("dock", provisioner="docker"))
    deps.stores.nodes.add(Node("http://10.0.0.9:2375", "docker", "dock", "waiting"))
    deps.runtime_commands = FakeRuntimeCommands()
    # Stored before images carried the namespace: kept as it was built.
    deps.stores.platforms.add(Platform("old"))
    assert deps.stores.platforms.next_version("old") == 1
    deps.stores.platforms.add_version("old", PlatformVersion(1, ("tsuru/old:v1",), "FROM a\n"))
    resp = call("PUT", "/platforms/old", data={
        "dockerfile_content": (io.BytesIO(b"FROM tsubame/python:latest\n"), "D")})  # fmt: skip
    assert "Error" not in lines(resp)[-1]
    assert call("GET", "/platforms/old").json["images"] == ["tsuru/old:v1", "stack-a/tsuru/old:v2"]
    for image in ("tsuru/old:v1", "stack-a/tsuru/old:v2"):
        resp = call("POST", "/platforms/old/rollback", data={"image": image})
        assert lines(resp)[-1]["Message"] == "Platform successfully updated!\n"
    stored = deps.stores.platforms.get("old")
    assert stored is not None
    assert [(v.images, v.dockerfile) for v in stored.versions[2:]] == [
        (("stack-a/tsuru/old:v3",), "FROM tsuru/old:v1\n"),
        (("stack-a/tsuru/old:v4",), "FROM stack-a/tsuru/old:v2\n"),
    ]
    other = replace(deps, config=replace(deps.config, image_namespace="stack-b"))
    assert platforms.image_name(other, "old", 3) == "stack-b/tsuru/old:v3"
