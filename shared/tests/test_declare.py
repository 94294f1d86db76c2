"""Route declarations (shared/http/declare.py): what they put in the service's document,
and that they never change what a route answers."""

from __future__ import annotations

import json

import pytest
from marshmallow import Schema, fields

from shared.http import (
    JSON_STREAM,
    QUERY,
    Blueprint,
    empty,
    input_value,
    json_response,
    make_app,
    parse_input,
    public,
    requires,
)
from shared.identity import IDENTITY_HEADER, internal_identity, sign
from shared.settings import Settings
from shared.testing.identity import SigningClient, pending
from shared.testing.routes import undocumented_routes

SECRET = b"s" * 32


class TeamIn(Schema):
    name = fields.String(load_default="")
    tags = fields.List(fields.String(), load_default=list)


class TeamOut(Schema):
    name = fields.String(required=True)
    pools = fields.List(fields.String(), required=True, allow_none=True)


class Filter(Schema):
    userEmail = fields.String()


def settings() -> Settings:
    return Settings(
        data_dir="/tmp/x", namespace="t", mongo_url="", amqp_url="", identity_secret=SECRET
    )


def build(declared: bool):
    """The same three views, with or without declarations."""
    bp = Blueprint("teams", __name__)

    def maybe(*decorators):
        def apply(view):
            if declared:
                for d in reversed(decorators):
                    view = d(view)
            return view

        return apply

    @bp.route("/teams", methods=["POST"])
    @maybe(bp.input(TeamIn), bp.output(201), bp.errors(400, {409: "Team already exists"}))
    @public
    def create():
        data = parse_input(TeamIn())
        return json_response({"got": data, "name": input_value("name")}, 201)

    @bp.route("/teams/<name>", methods=["GET"])
    @maybe(bp.input(Filter, QUERY), bp.output(200, TeamOut(many=True)), bp.output(204))
    @requires("team.read")
    def info(name):
        return json_response([{"name": name, "pools": None}]) if name != "none" else empty(204)

    @bp.route("/stream", methods=["GET", "POST"])
    @maybe(bp.output(200, JSON_STREAM))
    @public
    def stream_route():
        return empty()

    return make_app("auth", settings(), blueprints=[bp])


def internal_headers() -> dict[str, str]:
    path = "/internal/openapi.json"
    return {IDENTITY_HEADER: sign(internal_identity("gateway"), SECRET, method="GET", path=path)}


@pytest.fixture(scope="module")
def spec() -> dict:
    resp = build(True).test_client().get("/internal/openapi.json", headers=internal_headers())
    assert resp.status_code == 200
    return json.loads(resp.data)


def test_body_input_documents_form_and_json(spec) -> None:
    op = spec["paths"]["/teams"]["post"]
    content = op["requestBody"]["content"]
    assert set(content) == {"application/x-www-form-urlencoded", "application/json"}
    assert {c["schema"]["$ref"] for c in content.values()} == {"#/components/schemas/TeamIn"}
    assert op["requestBody"]["required"] is False
    assert spec["components"]["schemas"]["TeamIn"]["properties"]["tags"]["type"] == "array"


def test_outputs_and_plain_text_errors(spec) -> None:
    op = spec["paths"]["/teams"]["post"]
    assert op["responses"]["201"] == {"description": "Created"}  # empty, no content
    assert op["responses"]["409"] == {
        "description": "Team already exists",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    assert op["responses"]["400"]["description"] == "Bad Request"
    assert op["security"] == []
    info = spec["paths"]["/teams/{name}"]["get"]
    assert info["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/TeamOut"},
    }
    assert info["responses"]["204"] == {"description": "No Content"}
    pools = spec["components"]["schemas"]["TeamOut"]["properties"]["pools"]
    assert pools["nullable"] is True
    stream = spec["paths"]["/stream"]["post"]["responses"]["200"]["content"]
    assert stream["application/x-json-stream"]["schema"] == {
        "$ref": "#/components/schemas/StreamLine"
    }


def test_query_input_and_path_parameters(spec) -> None:
    item = spec["paths"]["/teams/{name}"]
    assert item["get"]["parameters"] == [
        {"in": "query", "name": "userEmail", "schema": {"type": "string"}, "required": False}
    ]
    assert item["parameters"][0]["name"] == "name"


def test_requires_adds_security_permission_and_401(spec) -> None:
    op = spec["paths"]["/teams/{name}"]["get"]
    assert op["security"] == [{"tsuru": []}]
    assert op["x-tsubame-permission"] == "team.read"
    assert op["responses"]["401"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert "tsuru" in spec["components"]["securitySchemes"]


def test_flask_smorest_leftovers_are_not_documented(spec) -> None:
    assert set(spec["components"]["schemas"]) == {"TeamIn", "TeamOut", "StreamLine"}
    assert not any("default" in op["responses"] for op in spec["paths"]["/teams"].values())


def test_declarations_change_no_byte_on_the_wire() -> None:
    apps = build(False), build(True)
    for app in apps:
        app.test_client_class = SigningClient
    plain, declared = (app.test_client() for app in apps)
    who = pending(internal_identity("x"), SECRET)
    requests = [
        ("POST", "/teams", {"data": {"name": "a", "tags": ["x", "y"]}}),
        ("POST", "/teams", {"json": {"NAME": "b", "tags": "z"}}),
        ("POST", "/teams", {"data": "{not json", "content_type": "application/json"}),
        ("POST", "/teams", {"json": {"tags": 3}}),
        ("POST", "/teams?name=q", {}),
        ("GET", "/teams/blue?userEmail=x", {"headers": who}),
        ("GET", "/teams/none", {"headers": who}),
        ("GET", "/teams/blue", {}),
        ("GET", "/stream", {}),
    ]
    for n, (method, path, kwargs) in enumerate(requests):
        # The same request id to both: else each answers the one it made.
        kwargs = {**kwargs, "headers": {**kwargs.get("headers", {}), "X-Request-Id": f"r{n}"}}
        a = plain.open(path, method=method, **kwargs)
        b = declared.open(path, method=method, **kwargs)
        assert (a.status_code, a.data, sorted(a.headers.items())) == (
            b.status_code,
            b.data,
            sorted(b.headers.items()),
        ), (method, path)


def test_document_is_internal() -> None:
    client = build(True).test_client()
    assert client.get("/internal/openapi.json").status_code == 401


def test_parsing_decorators_are_refused() -> None:
    bp = Blueprint("x", __name__)
    for name in ("arguments", "response", "alt_response", "paginate"):
        with pytest.raises(TypeError, match="Blueprint.input/output"):
            getattr(bp, name)(TeamIn)


def test_a_status_declared_twice_is_a_mistake() -> None:
    bp = Blueprint("x", __name__)
    with pytest.raises(ValueError, match="declared twice"):
        bp.output(200)(bp.errors(200)(lambda: None))
    with pytest.raises(ValueError, match="one body"):
        bp.input(TeamIn)(bp.input(Filter)(lambda: None))


def test_undocumented_routes_are_reported() -> None:
    assert undocumented_routes(build(True)) == []
    assert undocumented_routes(build(False)) == [
        "GET /teams/<name>",
        "GET,POST /stream",
        "POST /teams",
    ]
