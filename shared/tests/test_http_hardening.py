"""The shared HTTP layer against hostile input and failing dependencies (no sockets):
deferred grants, body limits, malformed text, deep JSON, outages as 503."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from shared.bus import BusError
from shared.errors import Unavailable
from shared.http import (
    Blueprint,
    current_identity,
    input_fields,
    input_value,
    json_response,
    make_app,
    parse_input,
    public,
    requires,
    upload,
)
from shared.http.grants import GrantsCache
from shared.identity import Grant, Identity, grants_digest
from shared.settings import Settings
from shared.testing.identity import pending

SECRET = b"h" * 32

MANY = tuple(
    Grant(f"app.update.p{i}", "team", f"team-{t:02d}") for i in range(72) for t in range(15)
)
BIG = Identity(kind="user", name="big@x.com", email="big@x.com", token_kind="session", grants=MANY)


class FakeGrants:
    """Grant source of the auth service, counting lookups."""

    def __init__(self, known: dict[tuple[str, str], tuple[Grant, ...]]) -> None:
        self.known = known
        self.calls: list[tuple[str, str]] = []
        self.down = False

    def grants_of(self, kind: str, name: str) -> tuple[Grant, ...] | None:
        self.calls.append((kind, name))
        if self.down:
            from shared.errors import AUTH_UNAVAILABLE

            raise Unavailable(AUTH_UNAVAILABLE)
        return self.known.get((kind, name))


def settings(**kw: int) -> Settings:
    return Settings(
        data_dir="/tmp/x",
        namespace="t",
        mongo_url="",
        amqp_url="",
        identity_secret=SECRET,
        **kw,  # type: ignore[arg-type]
    )


def build(grants: FakeGrants | None = None, **kw: int):  # type: ignore[no-untyped-def]
    bp = Blueprint("h", __name__)

    @bp.route("/mine", methods=["GET"])
    @requires("app.read")
    def mine():
        ident = current_identity()
        assert ident is not None
        return json_response({"grants": len(ident.grants), "deferred": ident.deferred_grants})

    @bp.route("/echo", methods=["POST"])
    @public
    def echo():
        return json_response({"k": input_value("k"), "fields": input_fields()})

    @bp.route("/parse", methods=["POST"])
    @public
    def parse():
        from marshmallow import Schema, fields

        class Body(Schema):
            name = fields.String()

        return json_response(parse_input(Body()))

    @bp.route("/archive", methods=["POST"])
    @public
    @upload
    def archive():
        from flask import request

        return json_response({"size": len(request.files["file"].read())})

    @bp.route("/db-down", methods=["GET"])
    @public
    def db_down():
        raise ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused")

    @bp.route("/bus-down", methods=["GET"])
    @public
    def bus_down():
        raise BusError("cannot publish 'x': AMQPConnectionError(ConnectionRefusedError(111))")

    @bp.route("/bug", methods=["GET"])
    @public
    def bug():
        raise KeyError("internal detail that users must not see")

    app = make_app("test", settings(**kw), blueprints=[bp], grants=grants or FakeGrants({}))
    return app.test_client()


# -- deferred grants ----------------------------------------------------------------


def test_big_grant_sets_are_resolved_once_then_cached() -> None:
    source = FakeGrants({("user", "big@x.com"): MANY})
    client = build(source)
    for _ in range(3):
        resp = client.get("/mine", headers=pending(BIG, SECRET))
        assert resp.status_code == 200, resp.text
        assert resp.json == {"grants": len(set(MANY)), "deferred": ""}
    assert source.calls == [("user", "big@x.com")]


def test_small_grant_sets_need_no_lookup() -> None:
    source = FakeGrants({})
    small = replace(BIG, grants=(Grant("app.read"),))
    assert build(source).get("/mine", headers=pending(small, SECRET)).json["grants"] == 1
    assert source.calls == []


def test_changed_grants_are_a_new_digest() -> None:
    source = FakeGrants({("user", "big@x.com"): MANY})
    client = build(source)
    client.get("/mine", headers=pending(BIG, SECRET))
    more = (*MANY, Grant("app.deploy", "team", "extra"))
    source.known[("user", "big@x.com")] = more
    resp = client.get("/mine", headers=pending(replace(BIG, grants=more), SECRET))
    assert resp.json["grants"] == len(set(more))
    assert len(source.calls) == 2


def test_vanished_subject_is_401_and_auth_down_is_503() -> None:
    source = FakeGrants({})
    client = build(source)
    assert client.get("/mine", headers=pending(BIG, SECRET)).status_code == 401
    source.down = True
    resp = client.get("/mine", headers=pending(BIG, SECRET))
    assert resp.status_code == 503
    assert resp.text == "the auth service is unavailable, try again later\n"


def test_grants_cache_is_bounded() -> None:
    source = FakeGrants({("user", f"u{i}"): MANY for i in range(10)})
    cache = GrantsCache(source, max_entries=3)
    for i in range(10):
        ident = Identity(kind="user", name=f"u{i}", deferred_grants=grants_digest(MANY))
        assert cache.complete(ident).grants == MANY
        assert len(cache) <= 3


# -- body limits --------------------------------------------------------------------


def test_ordinary_body_over_the_limit_is_413_and_not_parsed() -> None:
    client = build(max_body_size=1000)
    resp = client.post("/echo", data={"k": "x" * 2000})
    assert resp.status_code == 413
    assert resp.text == "request body too large: this route accepts at most 1000 bytes\n"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert client.post("/echo", data={"k": "x" * 500}).json["k"] == "x" * 500


def test_upload_routes_take_large_bodies() -> None:
    import io

    client = build(max_body_size=1000, max_upload_size=100_000)
    data = {"file": (io.BytesIO(b"a" * 50_000), "app.tar.gz")}
    resp = client.post("/archive", data=data, content_type="multipart/form-data")
    assert resp.json == {"size": 50_000}
    data = {"file": (io.BytesIO(b"a" * 200_000), "app.tar.gz")}
    resp = client.post("/archive", data=data, content_type="multipart/form-data")
    assert resp.status_code == 413


# -- malformed text and JSON ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * 1500 + "]" * 1500,
        '{"k":' * 150 + "1" + "}" * 150,
        '{"k": "\\ud800"}',
        '{"\\udfff": "x"}',
        '{"k": ["ok", {"deep": "\\ud834"}]}',
    ],
    ids=["nested-1500", "nested-150", "lone-surrogate", "surrogate-key", "surrogate-inner"],
)
@pytest.mark.parametrize("path", ["/echo", "/parse"])
def test_hostile_json_is_400(body: str, path: str) -> None:
    resp = build().post(path, data=body, content_type="application/json")
    assert resp.status_code == 400, resp.text
    assert resp.text.startswith("unable to parse as json: ")
    assert "Traceback" not in resp.text


def test_reasonable_json_still_works() -> None:
    body = json.dumps({"name": "ok", "nested": {"a": [1, {"b": "é😀"}]}})
    assert build().post("/parse", data=body, content_type="application/json").json == {"name": "ok"}


@pytest.mark.parametrize(
    "target,body",
    [
        ("/echo?k=%ff", None),
        ("/echo?k=%ed%a0%80", None),  # a surrogate, UTF-8 encoded (CESU-8)
        ("/echo", "k=%c3%28"),
        ("/echo", "k%80=1"),
    ],
)
def test_invalid_utf8_is_400_before_anything_runs(target: str, body: str | None) -> None:
    resp = build().post(target, data=body or "", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400
    assert resp.text == "invalid request: text must be valid UTF-8\n"


def test_valid_utf8_form_passes() -> None:
    resp = build().post(
        "/echo?x=%C3%A9", data="k=%F0%9F%98%80+1", content_type="application/x-www-form-urlencoded"
    )
    assert resp.json["k"] == "😀 1"


# -- outages and bugs -----------------------------------------------------------------


def test_database_outage_is_503_without_driver_words() -> None:
    resp = build().get("/db-down")
    assert resp.status_code == 503
    assert resp.text == "the database is unavailable, try again later\n"


def test_bus_outage_is_503() -> None:
    resp = build().get("/bus-down")
    assert resp.status_code == 503
    assert resp.text == "the message bus is unavailable, try again later\n"


def test_unexpected_error_hides_its_details() -> None:
    resp = build().get("/bug")
    assert resp.status_code == 500
    assert "internal detail" not in resp.text


def test_autoreconnect_is_an_outage_too() -> None:
    from shared.http.outage import outage_message

    assert outage_message(AutoReconnect("x")) == "the database is unavailable, try again later"
    assert outage_message(ValueError("x")) is None
