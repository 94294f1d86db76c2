"""InternalClient against real HTTP services (two instances of a shared.http app)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Response, request
from werkzeug.serving import make_server

from shared import requestid
from shared.client import InternalClient, RemoteError, path, segment
from shared.errors import ServerError, Unavailable
from shared.http import Blueprint, current_identity, internal, json_response, make_app, text_error
from shared.settings import Settings

SECRET = b"client-test-secret-0123456789"


@dataclass
class Instance:
    label: str
    down_with: int = 0  # answer this status to everything when set
    posts: list[str] = field(default_factory=list)
    url: str = ""


def service(inst: Instance) -> Any:
    bp = Blueprint(f"internal_{inst.label}", __name__)

    @bp.route("/internal/echo/<name>", methods=["GET", "POST"])
    @internal
    def echo(name: str) -> Response:
        ident = current_identity()
        assert ident is not None
        if request.method == "POST":
            inst.posts.append(name)
        if inst.down_with:
            return text_error("instance down", inst.down_with)
        return json_response(
            {"name": name, "by": f"{ident.kind}:{ident.name}", "at": inst.label,
             "args": request.args.to_dict(), "json": request.get_json(silent=True),
             "rid": requestid.current()}
        )  # fmt: skip

    @bp.route("/internal/status/<int:code>", methods=["GET"])
    @internal
    def status(code: int) -> Response:
        return text_error(f"answer {code}", code)

    @bp.route("/internal/slow", methods=["GET", "POST"])
    @internal
    def slow() -> Response:
        if inst.label == "a":
            time.sleep(1.5)
        return json_response({"at": inst.label})

    @bp.route("/internal/big", methods=["GET"])
    @internal
    def big() -> Response:
        return json_response("x" * 5000)

    settings = Settings("/tmp/x", "t", "", "", SECRET)
    return make_app("test", settings, blueprints=[bp])


@pytest.fixture
def instances() -> Iterator[tuple[Instance, Instance]]:
    a, b = Instance("a"), Instance("b")
    servers = []
    for inst in (a, b):
        srv = make_server("127.0.0.1", 0, service(inst), threaded=True)
        inst.url = f"http://127.0.0.1:{srv.server_port}"
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    yield a, b
    for srv in servers:
        srv.shutdown()


def closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def client(*urls: str, **kw: Any) -> InternalClient:
    return InternalClient("apps", urls, secret=SECRET, caller="auth", **kw)


def test_path_segments_are_escaped() -> None:
    assert (
        path("/internal/teams/{}/usage", "a/b?c#d e%")
        == "/internal/teams/a%2Fb%3Fc%23d%20e%25/usage"
    )
    assert segment("..") == "%2E%2E" and segment(".") == "%2E"
    with pytest.raises(ValueError):
        path("/internal/teams/{}", "")
    with pytest.raises(ValueError):
        path("/internal/teams/{}", "a", "b")


def test_signed_identity_and_names_arrive_as_one_segment(instances: tuple[Instance, ...]) -> None:
    a, _ = instances
    c = client(a.url)
    for name in ("plain", "ünïcode", "a?b=c", "a#b", "100%", "sp ace", "..", "a;b"):
        got = c.get("/internal/echo/{}", name, params={"x": "1"})
        assert (got["name"], got["by"], got["args"]) == (name, "internal:auth", {"x": "1"})
    assert c.post("/internal/echo/{}", "p", json={"k": [1]})["json"] == {"k": [1]}


def test_the_callers_request_id_travels_to_the_callee(instances: tuple[Instance, ...]) -> None:
    a, _ = instances
    with requestid.bound("abc"):
        assert client(a.url).get("/internal/echo/{}", "x")["rid"] == "abc"
    # A call made outside any request (a background loop) gets an id at the callee.
    made = client(a.url).get("/internal/echo/{}", "x")["rid"]
    assert made and made != "abc"


def test_every_instance_is_used_and_a_dead_one_is_skipped(instances: tuple[Instance, ...]) -> None:
    a, b = instances
    c = client(a.url, b.url)
    assert {c.get("/internal/echo/{}", "x")["at"] for _ in range(4)} == {"a", "b"}
    c = client(closed_url(), b.url)
    assert all(c.get("/internal/echo/{}", "x")["at"] == "b" for _ in range(3))
    # A POST whose connection was refused never left: it goes to the next instance.
    assert c.post("/internal/echo/{}", "once")["at"] == "b" and b.posts == ["once"]


def test_unavailable_instances_fail_over_for_reads_but_posts_are_never_sent_twice(
    instances: tuple[Instance, ...],
) -> None:
    a, b = instances
    a.down_with = 503
    c = client(a.url, b.url)
    assert all(c.get("/internal/echo/{}", "x")["at"] == "b" for _ in range(4))
    seen = []
    for i in range(4):
        try:
            seen.append(c.post("/internal/echo/{}", f"p{i}")["at"])
        except Unavailable as exc:
            assert exc.status == 503 and str(exc) == "instance down"
            seen.append("refused")
    assert set(seen) == {"b", "refused"}
    assert len(a.posts) + len(b.posts) == 4  # each POST reached exactly one instance
    b.down_with = 503
    with pytest.raises(Unavailable) as err:
        c.get("/internal/echo/{}", "x")
    assert str(err.value) == "the apps service is unavailable, try again later"


def test_nobody_listening_is_503(instances: tuple[Instance, ...]) -> None:
    with pytest.raises(Unavailable) as err:
        client(closed_url(), closed_url()).get("/internal/echo/{}", "x")
    assert err.value.status == 503
    with pytest.raises(Unavailable, match="not configured"):
        client().get("/internal/echo/{}", "x")


def test_404_and_501_give_absent_when_asked_else_the_callees_text(
    instances: tuple[Instance, ...],
) -> None:
    a, _ = instances
    c = client(a.url)
    assert c.get("/internal/status/{}", "404", absent=[]) == []
    assert c.get("/internal/not-built-yet", absent={}) == {}  # the 501 catch-all
    with pytest.raises(RemoteError) as err:
        c.get("/internal/status/{}", "404")
    assert (err.value.status, str(err.value)) == (404, "answer 404")
    with pytest.raises(RemoteError) as err:
        c.get("/internal/status/{}", "409", absent=None)
    assert (err.value.status, str(err.value)) == (409, "answer 409")
    with pytest.raises(ServerError) as err:
        c.get("/internal/status/{}", "500")
    assert (err.value.status, str(err.value)) == (500, "answer 500")
    with pytest.raises(ServerError, match="refused an internal call"):
        InternalClient("apps", (a.url,), secret=b"w" * 32, caller="x").get("/internal/echo/{}", "x")


def test_timeouts_fail_over_for_reads_only(instances: tuple[Instance, ...]) -> None:
    a, b = instances
    c = client(a.url, b.url, timeout=0.5)
    assert {c.get("/internal/slow")["at"] for _ in range(2)} == {"b"}
    outcomes = set()
    for _ in range(2):
        try:
            outcomes.add(c.post("/internal/slow")["at"])
        except Unavailable as exc:
            outcomes.add(str(exc))
    assert outcomes == {"b", "the apps service did not answer, try again later"}


def test_bodies_are_bounded(instances: tuple[Instance, ...]) -> None:
    a, _ = instances
    assert len(client(a.url).get("/internal/big")) == 5000
    with pytest.raises(ServerError, match="answered more than 1000 bytes"):
        client(a.url, max_body=1000).get("/internal/big")


def test_the_launchers_instance_registry_is_followed(
    instances: tuple[Instance, ...], tmp_path: Any
) -> None:
    from shared import instances as registry

    a, b = instances
    path_ = tmp_path / "instances.json"
    env = {"TSUBAME_IDENTITY_SECRET": SECRET.decode(), "TSUBAME_APPS_URLS": a.url}
    settings = Settings.from_env({**env, "TSUBAME_INSTANCES_FILE": str(path_)})
    c = InternalClient.to("apps", settings, caller="auth")
    # No registry yet: the boot-time URLs.
    assert c.get("/internal/echo/{}", "x")["at"] == "a"

    def publish(generation: int, *records: tuple[str, str]) -> None:
        entries = tuple(registry.InstanceRecord(u, u, st) for u, st in records)
        registry.write(path_, registry.Registry(generation, {"apps": entries}))

    publish(1, (a.url, "draining"), (b.url, "up"))  # a scaled away, b started
    assert {c.get("/internal/echo/{}", "x")["at"] for _ in range(4)} == {"b"}
    publish(2, (a.url, "up"), (b.url, "down"))
    assert {c.get("/internal/echo/{}", "x")["at"] for _ in range(4)} == {"a"}
    publish(3, (b.url, "down"))  # nothing up: the restarting one is still tried
    assert c.get("/internal/echo/{}", "x")["at"] == "b"
    # Without the setting the boot-time URLs stay.
    fixed = InternalClient.to("apps", Settings.from_env(env), caller="auth")
    assert fixed.urls == (a.url,)
