"""Every route of the seed document through a real gateway, in front of fake services.

The fake services echo who they are and what they received, so each request proves
which service the gateway chose and what it forwarded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from gateway.tests.harness import SECRET, GatewayHarness
from gateway.tools import build_routes
from shared.identity import IDENTITY_HEADER, verify

pytestmark = pytest.mark.e2e

SEED = build_routes.parse_seed(build_routes.DEFAULT_SEED.read_text())
APPENDIX = build_routes.parse_appendix(build_routes.DEFAULT_APPENDIX.read_text())
SUPPORTED = {
    "Supported-Tsuru": "1.0.1",
    "Supported-Crane": "1.0.0",
    "Supported-Tsuru-Admin": "1.0.0",
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    with GatewayHarness(tmp_path_factory.mktemp("gw-routes")) as harness:
        yield harness


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def concrete(template: str) -> str:
    template = build_routes.normalize(template)
    template = template.replace("{address:.*}", "http://10.0.0.1:2375")
    template = template.replace("{provisioner}", "swarm")
    return re.sub(r"\{[^}]*\}", "v1", template)


def _id(entry: build_routes.SourceRoute) -> str:
    return f"{entry.method} {entry.template}"


@pytest.mark.parametrize("prefix", ["", "/1.0"])
@pytest.mark.parametrize("entry", SEED, ids=_id)
def test_seed_route_without_token(
    gateway: GatewayHarness, http: requests.Session, entry: build_routes.SourceRoute, prefix: str
) -> None:
    path = concrete(entry.template)
    owner = build_routes.owner_of(entry.template)
    resp = http.request(entry.method, gateway.url + prefix + path)
    for name, value in SUPPORTED.items():
        assert resp.headers[name] == value
    if (entry.method, build_routes.normalize(entry.template)) in build_routes.PUBLIC:
        assert resp.status_code != 401
        if owner == "gateway":
            assert resp.status_code == 200
        else:
            assert resp.json()["service"] == owner
            assert resp.json()["path"] == path
            assert IDENTITY_HEADER.lower() not in resp.json()["headers"]
    else:
        assert resp.status_code == 401
        assert resp.text == "You must provide a valid Authorization header\n"
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="tsuru" scope="tsuru"'
        assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("entry", SEED + APPENDIX, ids=_id)
def test_route_with_token_reaches_its_owner(
    gateway: GatewayHarness, http: requests.Session, entry: build_routes.SourceRoute
) -> None:
    owner = build_routes.owner_of(entry.template)
    if owner == "gateway":
        return  # answered by the gateway itself: see test_gateway_local.py
    path = concrete(entry.template)
    resp = http.request(
        entry.method,
        gateway.url + "/1.4" + path + "?x=1&y=%2F",
        headers={"Authorization": "bearer good"},
    )
    assert resp.status_code == 200, resp.text
    seen = resp.json()
    assert seen["service"] == owner
    assert seen["method"] == entry.method
    assert seen["path"] == path
    assert seen["query"] == "x=1&y=%2F"
    assert seen["headers"]["authorization"] == "bearer good"
    identity = verify(
        seen["headers"][IDENTITY_HEADER.lower()], SECRET.encode(), method=entry.method, path=path
    )
    assert identity.name == "good@example.com"


def test_unknown_paths_are_404_without_version_headers(
    gateway: GatewayHarness, http: requests.Session
) -> None:
    for path in ("/nothing", "//apps", "/apps/", "/1/apps", "/1.0/1.0/apps", "/apps/a/b/c/d/e"):
        resp = http.get(gateway.url + path, headers={"Authorization": "good"})
        assert resp.status_code == 404, path
        assert resp.text == "404 page not found\n"
        assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert "Supported-Tsuru" not in resp.headers


def test_wrong_method_is_405_with_allow(gateway: GatewayHarness, http: requests.Session) -> None:
    resp = http.patch(gateway.url + "/apps/myapp/env")
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "DELETE, GET, POST"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Supported-Tsuru" not in resp.headers
    assert http.head(gateway.url + "/1.0/apps").status_code == 405


def test_literal_routes_beat_parameters(gateway: GatewayHarness, http: requests.Session) -> None:
    auth = {"Authorization": "good"}
    assert http.get(gateway.url + "/events/webhooks", headers=auth).json()["service"] == "events"
    resp = http.get(gateway.url + "/docker/nodecontainers", headers=auth)
    assert resp.json()["path"] == "/docker/nodecontainers"
    resp = http.get(gateway.url + "/node/http://h:2375/containers", headers=auth)
    assert resp.json()["service"] == "provisioner"
    assert resp.json()["path"] == "/node/http://h:2375/containers"


def test_path_encoding_is_forwarded_unchanged(
    gateway: GatewayHarness, http: requests.Session
) -> None:
    resp = http.get(
        gateway.url + "/1.0/apps/my%20app/env?a=%26b", headers={"Authorization": "good"}
    )
    assert resp.json()["path"] == "/apps/my%20app/env"
    assert resp.json()["query"] == "a=%26b"


def test_tsuru_reference_routes_exist() -> None:
    # The documents the table was built from parse completely (guards the parametrization).
    assert len(SEED) == 218
    assert len(APPENDIX) == 254 + 2 * 4
