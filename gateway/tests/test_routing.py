"""Matching rules of the router, on small tables (no sockets)."""

from __future__ import annotations

import pytest

from gateway.routing import (
    Match,
    MethodNotAllowed,
    Route,
    RouteTable,
    TableError,
    load_table,
    parse_table,
    strip_version,
)


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return load_table()


def _template(table: RouteTable, method: str, path: str) -> str:
    found = table.match(method, path)
    assert isinstance(found, Match), found
    return found.route.template


@pytest.mark.parametrize(
    ("raw", "stripped"),
    [
        ("/1.0/apps", "/apps"),
        ("/1.4/volumes", "/volumes"),
        ("/1.10/apps/x/versions/2", "/apps/x/versions/2"),
        ("/apps", "/apps"),
        ("/1/apps", "/1/apps"),
        ("/1.0", "/1.0"),
        ("/1.0/1.0/apps", "/1.0/apps"),
        ("/v1.0/apps", "/v1.0/apps"),
    ],
)
def test_strip_version(raw: str, stripped: str) -> None:
    assert strip_version(raw) == stripped


def test_any_version_prefix_is_accepted(table: RouteTable) -> None:
    for prefix in ("", "/1.0", "/1.1", "/1.4", "/2.7"):
        found = table.match("GET", prefix + "/apps/myapp/env")
        assert isinstance(found, Match)
        assert found.route.owner == "apps"
        assert found.path == "/apps/myapp/env"


def test_only_one_version_prefix_is_stripped(table: RouteTable) -> None:
    assert table.match("GET", "/1.0/1.0/apps") is None


def test_literal_beats_parameter(table: RouteTable) -> None:
    assert _template(table, "GET", "/events/webhooks") == "/events/webhooks"
    assert _template(table, "GET", "/events/blocks") == "/events/blocks"
    assert _template(table, "GET", "/events/5f0000000000000000000000") == "/events/{uuid}"
    assert _template(table, "GET", "/docker/nodecontainers") == "/docker/nodecontainers"
    assert _template(table, "GET", "/docker/node") == "/docker/node"
    assert _template(table, "GET", "/swarm/node") == "/{provisioner}/node"
    assert _template(table, "GET", "/node/autoscale") == "/node/autoscale"
    assert _template(table, "GET", "/plans/routers") == "/plans/routers"
    assert _template(table, "GET", "/services/instances") == "/services/instances"
    assert _template(table, "POST", "/apps/x/units/register") == "/apps/{app}/units/register"
    assert _template(table, "POST", "/apps/x/units/u1") == "/apps/{app}/units/{unit}"


def test_method_falls_back_to_the_parameter_route(table: RouteTable) -> None:
    # /plans/routers only has GET; deleting the plan named "routers" still works.
    assert _template(table, "DELETE", "/plans/routers") in ("/plans/{name}", "/plans/{planname}")
    assert _template(table, "DELETE", "/node/autoscale") == "/node/{address:.*}"


def test_node_address_matches_the_rest_of_the_path(table: RouteTable) -> None:
    found = table.match("GET", "/node/http://h:2375/containers")
    assert isinstance(found, Match)
    assert found.route.template == "/node/{address:.*}/containers"
    assert _template(table, "GET", "/node/http://h:2375") == "/node/{address:.*}"
    assert _template(table, "DELETE", "/node/http://h:2375") == "/node/{address:.*}"
    assert _template(table, "GET", "/node/apps/x/containers") == "/node/apps/{appname}/containers"
    assert (
        _template(table, "GET", "/docker/node/http://h:2375/containers")
        == "/docker/node/{address:.*}/containers"
    )
    assert (
        _template(table, "DELETE", "/swarm/node/10.0.0.1:2375")
        == "/{provisioner}/node/{address:.*}"
    )


def test_parameters_match_one_nonempty_segment(table: RouteTable) -> None:
    assert table.match("GET", "/apps/a/b") is None
    assert table.match("GET", "/apps//env") is None
    assert table.match("GET", "/node/") is None


def test_paths_are_not_cleaned(table: RouteTable) -> None:
    assert table.match("GET", "//apps") is None
    assert table.match("GET", "/apps/") is None
    assert table.match("GET", "/apps/x/../y") is None
    assert table.match("GET", "") is None
    assert table.match("GET", "apps") is None


def test_healthcheck_and_index(table: RouteTable) -> None:
    assert _template(table, "GET", "/") == "/"
    assert _template(table, "GET", "/1.0/") == "/"
    assert _template(table, "GET", "/healthcheck") == "/healthcheck"
    assert _template(table, "GET", "/healthcheck/") == "/healthcheck/"
    assert _template(table, "GET", "/1.0/healthcheck") == "/healthcheck"


def test_unknown_path_is_none(table: RouteTable) -> None:
    assert table.match("GET", "/nothing-here") is None
    assert table.match("GET", "/apps/x/nothing") is None


def test_known_path_other_method_lists_allowed(table: RouteTable) -> None:
    found = table.match("PATCH", "/apps/x/env")
    assert found == MethodNotAllowed(("DELETE", "GET", "POST"))
    assert table.match("HEAD", "/apps") == MethodNotAllowed(("GET", "POST"))
    assert table.match("OPTIONS", "/") == MethodNotAllowed(("GET",))


def test_public_flag(table: RouteTable) -> None:
    def public(method: str, path: str) -> bool:
        found = table.match(method, path)
        assert isinstance(found, Match)
        return found.route.public

    assert public("POST", "/users")
    assert not public("GET", "/users")
    assert public("POST", "/users/a@b.c/tokens")
    assert not public("GET", "/users/a@b.c/quota")
    assert public("GET", "/apps/x/shell")
    assert public("GET", "/1.0/logs")


def test_conflicting_owners_are_refused() -> None:
    with pytest.raises(TableError):
        RouteTable(
            [
                Route("GET", "/a/{x}", "apps", False),
                Route("GET", "/a/{y}", "auth", False),
            ]
        )


def test_same_shape_same_owner_is_merged() -> None:
    table = RouteTable(
        [Route("GET", "/a/{x}", "apps", False), Route("GET", "/a/{y}", "apps", False)]
    )
    assert isinstance(table.match("GET", "/a/1"), Match)


def test_parse_table_rejects_garbage() -> None:
    with pytest.raises(TableError):
        parse_table("GET /x apps maybe\n")
    with pytest.raises(TableError):
        RouteTable(parse_table("GET /x nobody token\n"))
    assert parse_table("# comment\n\nGET /x apps token seed\n") == [
        Route("GET", "/x", "apps", False)
    ]
