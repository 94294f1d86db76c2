"""GET /openapi.json and GET /docs through the gateway: public, whole, offline."""

from __future__ import annotations

import re
import time

import pytest
import requests
from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

from gateway.tools import build_routes
from scripts.stack import Stack
from shared.openapi import path_shape

pytestmark = pytest.mark.e2e


def document(url: str) -> dict:
    resp = requests.get(f"{url}/openapi.json", timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    return resp.json()


def operation(doc: dict, method: str, template: str) -> dict:
    shape = path_shape(build_routes.normalize(template).replace(":.*", ""))
    [path] = [p for p in doc["paths"] if path_shape(p) == shape]
    return doc["paths"][path][method.lower()]


def test_document_covers_every_seed_entry_without_a_token(stack: Stack) -> None:
    doc = document(stack.url)
    assert doc["x-tsubame-missing-services"] == []
    assert [e.message for e in OPENAPI_30_VALIDATOR.iter_errors(doc)] == []
    for entry in build_routes.parse_seed(build_routes.DEFAULT_SEED.read_text()):
        op = operation(doc, entry.method, entry.template)
        assert op["x-tsubame-built"] in (True, False), entry
    # built by the services, declared in code
    team_create = operation(doc, "POST", "/teams")
    assert team_create["x-tsubame-built"] is True
    assert team_create["x-tsubame-permission"] == "team.create"
    assert set(team_create["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded",
        "application/json",
    }
    assert operation(doc, "GET", "/events/{uuid}")["x-tsubame-service"] == "events"
    app_create = operation(doc, "POST", "/apps")
    assert app_create["x-tsubame-built"] is True
    assert app_create["x-tsubame-permission"] == "app.create"
    # every route of the seed is built by now: no 501 is documented as an answer
    for entry in build_routes.parse_seed(build_routes.DEFAULT_SEED.read_text()):
        assert operation(doc, entry.method, entry.template)["x-tsubame-built"] is True, entry
    # the versioned spelling serves the same document
    assert requests.get(f"{stack.url}/1.0/openapi.json", timeout=30).json() == doc


def test_docs_page_and_its_assets_are_served_locally(stack: Stack) -> None:
    resp = requests.get(f"{stack.url}/docs", timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assets = re.findall(r"(?:src|href)=\"(/docs/[^\"]+)\"", resp.text)
    assert "/docs/swagger-ui-bundle.js" in assets
    for asset in assets:
        got = requests.get(stack.url + asset, timeout=30)
        assert got.status_code == 200, asset
        assert got.content
    init = requests.get(f"{stack.url}/docs/tsubame-docs.js", timeout=30).text
    assert "/openapi.json" in init
    assert requests.get(f"{stack.url}/docs/..%2Fsetup.py", timeout=30).status_code == 404
    assert requests.get(f"{stack.url}/docs/index.html", timeout=30).status_code == 404


def test_a_service_down_leaves_a_document_that_names_it(live_stack: Stack) -> None:
    live_stack.kill_service("catalog")
    deadline = time.monotonic() + 20
    doc = document(live_stack.url)
    while doc["x-tsubame-missing-services"] != ["catalog"] and time.monotonic() < deadline:
        time.sleep(0.5)  # the last whole document is kept a few seconds
        doc = document(live_stack.url)
    assert doc["x-tsubame-missing-services"] == ["catalog"]
    assert "catalog" in doc["info"]["description"]
    assert operation(doc, "GET", "/services")["x-tsubame-built"] == "unknown"
    assert operation(doc, "POST", "/teams")["x-tsubame-built"] is True
    live_stack.start_service("catalog")
