"""The committed route table covers the seed document and tsuru's route appendix."""

from __future__ import annotations

import re

import pytest

from gateway.routing import Match, load_table
from gateway.tools import build_routes

SEED = build_routes.DEFAULT_SEED
APPENDIX = build_routes.DEFAULT_APPENDIX


def _shape(template: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", build_routes.normalize(template))


def _concrete(template: str) -> str:
    template = build_routes.normalize(template)
    template = template.replace("{address:.*}", "http://10.0.0.1:2375")
    template = template.replace("{provisioner}", "swarm")
    return re.sub(r"\{[^}]*\}", "v1", template)


def _sources() -> list[build_routes.SourceRoute]:
    return (
        build_routes.parse_seed(SEED.read_text())
        + build_routes.parse_appendix(APPENDIX.read_text())
        + build_routes.tsubame_routes()
    )


def test_source_documents_parse_completely() -> None:
    seed = build_routes.parse_seed(SEED.read_text())
    appendix = build_routes.parse_appendix(APPENDIX.read_text())
    # 210 seed blocks, two of them with method "*" (5 methods each).
    assert len(seed) == 210 - 2 + 2 * 5
    numbers = {int(r.source[1:]) for r in appendix}
    assert numbers == set(range(1, 255))


def test_committed_table_is_the_generated_one() -> None:
    committed = build_routes.DEFAULT_OUT.read_text()
    assert committed == build_routes.render(_sources())


def test_committed_seed_operations_are_the_generated_ones() -> None:
    committed = build_routes.DEFAULT_SEED_OUT.read_text()
    assert committed == build_routes.render_seed_operations(SEED.read_text())


def test_seed_operations_keep_titles_and_statuses() -> None:
    ops = build_routes.parse_seed_operations(SEED.read_text())
    assert len(ops) == len(build_routes.parse_seed(SEED.read_text()))
    [team_create] = [o for o in ops if (o["method"], o["path"]) == ("POST", "/teams")]
    assert team_create["summary"] == "team create"
    assert team_create["responses"] == {
        "201": "Team created",
        "400": "Invalid data",
        "401": "Unauthorized",
        "409": "Team already exists",
    }
    assert all(o["summary"] and o["responses"] for o in ops)


def test_every_source_entry_is_a_table_row() -> None:
    rows = {(r.method, r.template) for r in load_table().routes}
    missing = [
        (s.method, s.template, s.source)
        for s in _sources()
        if (s.method, build_routes.normalize(s.template)) not in rows
    ]
    assert missing == []


@pytest.mark.parametrize("entry", _sources(), ids=lambda s: f"{s.source}-{s.method}-{s.template}")
def test_every_source_entry_routes_to_its_owner(entry: build_routes.SourceRoute) -> None:
    table = load_table()
    path = _concrete(entry.template)
    for candidate in (path, "/1.0" + path, "/1.10" + path):
        found = table.match(entry.method, candidate)
        assert isinstance(found, Match), (candidate, found)
        assert found.route.method == entry.method
        assert _shape(found.route.template) == _shape(entry.template)
        assert found.route.owner == build_routes.owner_of(entry.template)
        assert found.path == path


def test_public_routes_are_exactly_tsurus_unauthenticated_ones() -> None:
    public = {(r.method, r.template) for r in load_table().routes if r.public}
    assert public == {
        ("GET", "/"),
        ("POST", "/users"),
        ("GET", "/auth/scheme"),
        ("POST", "/auth/login"),
        ("GET", "/auth/saml"),
        ("POST", "/auth/saml"),
        ("POST", "/users/{email}/password"),
        ("POST", "/users/{email}/tokens"),
        ("GET", "/healthcheck"),
        ("GET", "/healthcheck/"),
        ("GET", "/metrics"),
        ("GET", "/apps/{appname}/shell"),
        ("GET", "/apps/{name}/shell"),
        ("GET", "/logs"),
        # Tsubame's own: the merged OpenAPI document and its page.
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/{asset}"),
        # The dashboard: its service keeps its own sign-in sessions.
        ("GET", "/ui"),
        ("GET", "/ui/"),
        ("GET", "/ui/{path:.*}"),
        ("POST", "/ui/{path:.*}"),
        ("POST", "/ui/apps/{app}/deploy"),
    }


def test_dashboard_routes_belong_to_the_web_service() -> None:
    table = load_table()
    for method, path in (
        ("GET", "/ui"),
        ("GET", "/ui/"),
        ("GET", "/ui/apps/shop"),
        ("GET", "/ui/static/dashboard.js"),
        ("POST", "/ui/apps/shop/env"),
        ("POST", "/ui/apps/shop/deploy"),
    ):
        found = table.match(method, path)
        assert isinstance(found, Match), path
        assert (found.route.owner, found.route.public) == ("web", True)
    deploy = table.match("POST", "/ui/apps/shop/deploy")
    assert isinstance(deploy, Match) and deploy.route.template == "/ui/apps/{app}/deploy"


def test_owners() -> None:
    owners = {(r.method, r.template): r.owner for r in load_table().routes}
    assert owners[("GET", "/teams/{name}/quota")] == "auth"
    assert owners[("GET", "/users/{email}/quota")] == "auth"
    assert owners[("GET", "/role/default")] == "auth"
    assert owners[("POST", "/tokens")] == "auth"
    assert owners[("GET", "/events/webhooks")] == "events"
    assert owners[("GET", "/brokers")] == "catalog"
    assert owners[("GET", "/node/autoscale")] == "provisioner"
    assert owners[("GET", "/plans/routers")] == "provisioner"
    assert owners[("GET", "/docker/node")] == "provisioner"
    assert owners[("GET", "/{provisioner}/node")] == "provisioner"
    assert owners[("POST", "/node/status")] == "apps"
    assert owners[("GET", "/app/{app}/routers")] == "apps"
    assert owners[("GET", "/apps/{app}/routers")] == "apps"
    assert owners[("POST", "/swap")] == "apps"
    assert owners[("GET", "/logs")] == "apps"
    assert owners[("GET", "/debug/goroutines")] == "gateway"
    assert owners[("GET", "/info")] == "gateway"
    assert owners[("GET", "/openapi.json")] == "gateway"
    assert owners[("GET", "/docs/{asset}")] == "gateway"


def test_repository_copies_of_the_sources_match_the_shared_documents():
    # The copies let a bare clone check the table; when the project's shared
    # documents sit beside the repository (developers, CI), they must agree.
    shared = build_routes.REPO.parent / "shared"
    seed = shared / "seed" / "api-reference.txt"
    if seed.exists():
        assert SEED.read_text() == seed.read_text()
    reference = shared / "reference" / "events-and-http.md"
    if reference.exists():
        assert build_routes.parse_appendix(reference.read_text()) == build_routes.parse_appendix(
            APPENDIX.read_text()
        )
    assert len(build_routes.parse_appendix(APPENDIX.read_text())) >= 254
