"""The merged OpenAPI document (gateway/openapi.py) and the /docs page, without sockets."""

from __future__ import annotations

import json
import re

import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

from gateway.docs_page import ASSETS, DocsPage
from gateway.local_doc import GATEWAY_OPERATIONS
from gateway.openapi import PublicDocument, load_seed, merge
from gateway.routing import load_table
from gateway.tools import build_routes
from shared.openapi import path_shape

CONTEXTS = ("auth", "apps", "catalog", "provisioner", "events")
TEXT = {"text/plain": {"schema": {"type": "string"}}}


def auth_doc() -> dict:
    """A service document as shared.http.make_app serves it (abridged)."""
    return {
        "openapi": "3.0.3",
        "paths": {
            "/teams/{name}": {
                "parameters": [
                    {"in": "path", "name": "name", "required": True, "schema": {"type": "string"}}
                ],
                "get": {
                    "tags": ["teams"],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Team"}
                                }
                            },
                        },
                        "404": {"description": "Team not found", "content": TEXT},
                    },
                    "security": [{"tsuru": []}],
                },
            },
            "/internal/teams": {"get": {"responses": {"200": {"description": "OK"}}}},
        },
        "components": {
            "schemas": {
                "Team": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "quota": {"$ref": "#/components/schemas/Quota"},
                    },
                },
                "Quota": {"type": "object", "properties": {"limit": {"type": "integer"}}},
                "Unused": {"type": "object"},
            }
        },
    }


def events_doc() -> dict:
    return {
        "paths": {
            "/events/{uuid}": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Quota"}
                                }
                            },
                        }
                    }
                }
            }
        },
        # Same name as auth's, another shape: renamed, auth's kept.
        "components": {"schemas": {"Quota": {"type": "string"}}},
    }


def docs(**given: dict | None) -> dict[str, dict | None]:
    out: dict[str, dict | None] = {ctx: {"paths": {}} for ctx in CONTEXTS}
    out.update(given)
    return out


@pytest.fixture(scope="module")
def merged() -> dict:
    return merge(load_table().routes, docs(auth=auth_doc(), events=events_doc()), load_seed())


def operation(doc: dict, method: str, template: str) -> dict:
    shape = path_shape(template)
    [path] = [p for p in doc["paths"] if path_shape(p) == shape]
    return doc["paths"][path][method.lower()]


def test_document_is_valid_openapi_3(merged: dict) -> None:
    errors = [e.message for e in OPENAPI_30_VALIDATOR.iter_errors(merged)]
    assert errors == []


def test_every_seed_entry_and_table_row_is_an_operation(merged: dict) -> None:
    seed = build_routes.parse_seed(build_routes.DEFAULT_SEED.read_text())
    for entry in seed:
        assert operation(merged, entry.method, entry.template)
    for route in load_table().routes:
        assert operation(merged, route.method, build_routes.normalize(route.template))


def test_one_spelling_per_shape_and_no_pattern_in_keys(merged: dict) -> None:
    shapes = [path_shape(p) for p in merged["paths"]]
    assert len(shapes) == len(set(shapes))
    assert not [p for p in merged["paths"] if ":" in p]
    assert "/node/{address}" in merged["paths"]  # {address:.*} in the table


def test_built_operation_is_the_services_plus_the_seeds_statuses(merged: dict) -> None:
    op = operation(merged, "GET", "/teams/{name}")
    assert op["x-tsubame-built"] is True
    assert op["x-tsubame-service"] == "auth"
    assert op["summary"] == "team info"  # the seed's title
    # the service's 404 text wins over the seed's; 401 comes from the route table
    assert op["responses"]["404"]["description"] == "Team not found"
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Team"
    }
    assert "401" in op["responses"]
    assert op["security"] == [{"tsuru": []}]
    # the service's spelling of the path and its parameter definition
    assert merged["paths"]["/teams/{name}"]["parameters"][0]["name"] == "name"


def test_unbuilt_operation_comes_from_the_seed_and_says_501(merged: dict) -> None:
    op = operation(merged, "POST", "/apps")
    assert op["x-tsubame-built"] is False
    assert op["summary"] == "app create"
    assert set(op["responses"]) >= {"201", "400", "401", "403", "409", "501"}
    assert op["tags"] == ["apps (not built)"]
    assert "501" in op["description"]


def test_public_routes_need_no_token(merged: dict) -> None:
    assert operation(merged, "POST", "/auth/login")["security"] == []
    assert operation(merged, "GET", "/openapi.json")["security"] == []
    assert operation(merged, "GET", "/info")["security"] == [{"tsuru": []}]


def test_internal_paths_stay_internal(merged: dict) -> None:
    assert not [p for p in merged["paths"] if p.startswith("/internal")]


def test_schemas_merged_renamed_on_conflict_and_pruned(merged: dict) -> None:
    schemas = merged["components"]["schemas"]
    assert schemas["Quota"] == {"type": "object", "properties": {"limit": {"type": "integer"}}}
    assert schemas["Quota.events"] == {"type": "string"}
    assert "Unused" not in schemas
    ref = operation(merged, "GET", "/events/{uuid}")["responses"]["200"]["content"]
    assert ref["application/json"]["schema"] == {"$ref": "#/components/schemas/Quota.events"}


def test_every_gateway_route_is_documented() -> None:
    gateway_rows = {(r.method, r.template) for r in load_table().routes if r.owner == "gateway"}
    assert gateway_rows == set(GATEWAY_OPERATIONS)


def test_a_missing_service_is_named_and_its_routes_still_listed() -> None:
    doc = merge(load_table().routes, docs(apps=None), load_seed())
    assert doc["x-tsubame-missing-services"] == ["apps"]
    assert "apps" in doc["info"]["description"]
    op = operation(doc, "GET", "/apps")
    assert op["x-tsubame-built"] == "unknown"
    assert "did not answer" in op["description"]
    assert "501" not in op["responses"]
    assert [e.message for e in OPENAPI_30_VALIDATOR.iter_errors(doc)] == []


def test_public_document_is_cached_and_retried_sooner_while_a_service_is_missing() -> None:
    now = [0.0]
    calls: list[int] = []
    answers = [docs(apps=None), docs(), docs()]

    def fetch() -> dict:
        calls.append(1)
        return answers[len(calls) - 1]

    document = PublicDocument(load_table().routes, fetch, ttl=30.0, retry=2.0, clock=lambda: now[0])
    first = json.loads(document.body())
    assert first["x-tsubame-missing-services"] == ["apps"]
    now[0] = 1.0
    document.body()
    assert len(calls) == 1
    now[0] = 2.5
    assert json.loads(document.body())["x-tsubame-missing-services"] == []
    now[0] = 30.0
    document.body()
    assert len(calls) == 2
    now[0] = 33.0
    document.body()
    assert len(calls) == 3


def test_docs_page_loads_only_local_assets() -> None:
    page = DocsPage()
    status, headers, body = page.page()
    assert status == "200 OK"
    html = body.decode()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    csp = dict(headers)["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    for src in re.findall(r"(?:src|href)=\"(/docs/[^\"]+)\"", html):
        status, headers, data = page.asset(src.rsplit("/", 1)[1])
        assert status == "200 OK", src
        assert data
    status, headers, init = page.asset("tsubame-docs.js")
    assert b'url: "/openapi.json"' in init
    assert b"validatorUrl: null" in init  # no call to the online validator


def test_docs_assets_are_an_allow_list() -> None:
    page = DocsPage()
    for name in ASSETS:
        assert page.asset(name)[0] == "200 OK"
    for name in ("index.html", "..", "swagger-ui-bundle.js.map", "oauth2-redirect.html", ""):
        assert page.asset(name)[0].startswith("404")
