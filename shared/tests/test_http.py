"""Unit tests of the shared HTTP layer, through a small Flask app (no sockets)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from marshmallow import Schema, fields

from shared.errors import Conflict, NotFound
from shared.http import (
    Blueprint,
    empty,
    form,
    input_fields,
    input_present,
    input_value,
    input_values,
    json_response,
    make_app,
    parse_input,
    public,
    require_identity,
    requires,
    stream,
)
from shared.identity import Grant, Identity
from shared.settings import Settings
from shared.testing.identity import pending

SECRET = b"s" * 32


class Filter(Schema):
    kind_names = fields.List(fields.String())
    error_only = fields.Boolean()


class Hook(Schema):
    name = fields.String()
    NewName = fields.String()
    event_filter = fields.Nested(Filter)
    limit = fields.Integer()


def settings() -> Settings:
    return Settings(
        data_dir="/tmp/x", namespace="t", mongo_url="", amqp_url="", identity_secret=SECRET
    )


@pytest.fixture()
def client():
    bp = Blueprint("t", __name__)

    @bp.route("/values/<name>", methods=["GET", "POST", "PUT", "DELETE"])
    @public
    def values(name: str):
        return json_response(
            {
                "one": input_value("k"),
                "all": input_values("k"),
                "form": form().getlist("k"),
                "present": input_present("k"),
                "fields": input_fields(sensitive=("password",)),
            }
        )

    @bp.route("/decode", methods=["POST"])
    @public
    def decode():
        return json_response(parse_input(Hook()))

    @bp.route("/private", methods=["GET"])
    @requires("app.read")
    def private():
        ident = require_identity()
        return json_response({"name": ident.name})

    @bp.route("/missing", methods=["GET"])
    @public
    def missing():
        raise NotFound("team not found")

    @bp.route("/empty", methods=["POST"])
    @public
    def emptied():
        return empty(201)

    @bp.route("/stream/<mode>", methods=["POST"])
    @public
    def streamed(mode: str):
        def op(w):
            if mode == "early":
                raise Conflict("locked before writing")
            w.write("one\n")
            if mode == "late":
                raise Conflict("failed midway")
            w.write("two\n")

        return stream(op)

    app = make_app("test", settings(), blueprints=[bp])
    return app.test_client()


def signed(identity: Identity) -> dict[str, str]:
    return pending(identity, SECRET)


def test_form_body_first_then_query(client):
    r = client.post("/values/x?k=q1", data={"k": "b1"})
    assert r.json["all"] == ["b1", "q1"]
    assert r.json["one"] == "b1"


def test_delete_body_is_ignored(client):
    r = client.delete("/values/x?k=q", data={"k": "body"})
    assert r.json["all"] == ["q"]


def test_json_values_after_query_go_formatting(client):
    body = {"k": [True, 1, 1.5, 1000000, "s"]}
    r = client.post("/values/x?k=q", data=json.dumps(body), content_type="application/json")
    assert r.json["all"] == ["q", "true", "1", "1.5", "1e+06", "s"]
    assert r.json["form"] == ["q"]


def test_empty_json_array_is_present_without_values(client):
    r = client.post("/values/x", data='{"k": []}', content_type="application/json")
    assert r.json["present"] is True
    assert r.json["all"] == []


def test_invalid_json_counts_as_absent_for_values(client):
    r = client.post("/values/x", data="{nope", content_type="application/json")
    assert r.json["present"] is False


def test_input_fields_masks_and_includes_path_variables(client):
    r = client.post("/values/app1", data={"password": "secret", "k": "v"})
    fields_ = {f["name"]: f["value"] for f in r.json["fields"]}
    assert fields_ == {"password": "*****", "k": "v", ":name": "app1"}


def test_parse_input_json_case_insensitive_nested(client):
    body = {
        "NAME": "wh",
        "newname": "x",
        "Event_Filter": {"Kind_Names": ["app"], "error_only": True},
    }
    r = client.post("/decode", data=json.dumps(body), content_type="application/json")
    assert r.json == {
        "name": "wh",
        "NewName": "x",
        "event_filter": {"kind_names": ["app"], "error_only": True},
    }


def test_parse_input_form_dots_and_indices(client):
    data = {
        "name": "wh",
        "event_filter.kind_names.0": "app.deploy",
        "event_filter.kind_names.1": "team",
        "event_filter.error_only": "true",
    }
    r = client.post("/decode", data=data)
    assert r.json["event_filter"] == {"kind_names": ["app.deploy", "team"], "error_only": True}


def test_parse_input_invalid_json_is_400_with_tsuru_text(client):
    r = client.post("/decode", data="{bad", content_type="application/json")
    assert r.status_code == 400
    assert r.text.startswith('unable to parse as json: "{bad" - ')
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_parse_input_bad_value_is_400(client):
    r = client.post("/decode", data={"limit": "abc"})
    assert r.status_code == 400
    assert r.text.startswith("unable to decode form: limit")


def test_errors_are_plain_text_with_newline(client):
    r = client.get("/missing")
    assert r.status_code == 404
    assert r.data == b"team not found\n"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_requires_token(client):
    r = client.get("/private")
    assert r.status_code == 401
    assert r.data == b"You must provide a valid Authorization header\n"
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="tsuru" scope="tsuru"'
    ident = Identity(kind="user", name="a@b.com", email="a@b.com", grants=(Grant("app"),))
    assert client.get("/private", headers=signed(ident)).json == {"name": "a@b.com"}


def test_forged_identity_is_refused_even_on_public_routes(client):
    ident = Identity(kind="user", name="a@b.com", grants=(Grant(""),))
    forged = pending(ident, b"x" * 32)
    assert client.get("/private", headers=forged).status_code == 401
    assert client.get("/values/x", headers=forged).status_code == 401


def test_empty_response_has_no_content_type(client):
    r = client.post("/empty")
    assert r.status_code == 201
    assert r.data == b""
    assert "Content-Type" not in r.headers


def test_unknown_route_of_a_service_is_an_honest_501(client):
    r = client.get("/not/built")
    assert r.status_code == 501
    assert "GET /not/built" in r.text


def test_health(client):
    assert client.get("/internal/health").status_code == 200


def test_stream_success_lines(client):
    r = client.post("/stream/ok")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/x-json-stream"
    lines = [json.loads(x) for x in r.data.decode().splitlines()]
    assert [x["Message"] for x in lines] == ["one\n", "two\n"]
    assert all("Error" not in x for x in lines)


def test_stream_error_before_output_keeps_status(client):
    r = client.post("/stream/early")
    assert r.status_code == 409
    assert r.data == b"locked before writing\n"


def test_stream_error_after_output_is_final_error_line(client):
    r = client.post("/stream/late")
    assert r.status_code == 200
    lines = [json.loads(x) for x in r.data.decode().splitlines()]
    assert lines[-1]["Error"] == "failed midway"
    assert lines[-1]["Message"] == ""


def test_stream_keepalive_while_waiting():
    release = threading.Event()
    bp = Blueprint("k", __name__)

    @bp.route("/slow", methods=["POST"])
    @public
    def slow():
        def op(w):
            w.write("start\n")
            release.wait(5)
            w.write("end\n")

        return stream(op, keepalive=0.05)

    app = make_app("test", settings(), blueprints=[bp])
    resp = app.test_client().post("/slow", buffered=False)
    it = resp.response.__iter__()
    first = next(it)
    # bytes: direct_passthrough hands them to the WSGI server as they are (gunicorn
    # refuses text)
    assert isinstance(first, bytes)
    assert json.loads(first)["Message"] == "start\n"
    assert next(it) == b"\n"  # keep-alive arrives while the operation still runs
    release.set()
    rest = "".join(x if isinstance(x, str) else x.decode() for x in it)
    assert '"end\\n"' in rest
    time.sleep(0)


def test_json_bodies_escape_html_characters_like_go():
    from shared.http.responses import dumps

    body = dumps({"msg": "<a href='x'>&</a>\u2028"})
    assert body == '{"msg":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e\\u2028"}'
    assert json.loads(body) == {"msg": "<a href='x'>&</a>\u2028"}
