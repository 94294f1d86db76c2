"""Routes the gateway answers itself (no sockets)."""

from __future__ import annotations

from gateway.local import LocalRoutes
from gateway.metrics import Metrics
from gateway.routing import Route
from shared.identity import Grant, Identity


class Healthy:
    def __init__(self, answer: str | None) -> None:
        self.answer = answer

    def health(self, timeout: float = 5.0) -> str | None:
        return self.answer


def local(**upstreams: str | None) -> LocalRoutes:
    return LocalRoutes(
        "http://tsuru.example.com",
        {name: Healthy(answer) for name, answer in upstreams.items()},  # type: ignore[misc]
        Metrics(None),
    )


def route(template: str) -> Route:
    return Route("GET", template, "gateway", template in ("/", "/healthcheck", "/metrics"))


def test_healthcheck_without_selection_checks_nothing() -> None:
    routes = local(auth="broken")
    for query in ("", "check=MongoDB", "x=1"):
        status, _, body = routes.answer(route("/healthcheck"), query, None)
        assert (status, body) == ("200 OK", b"WORKING")


def test_healthcheck_reports_selected_checks_in_order() -> None:
    routes = local(auth=None, apps="http://a:1 answered 503", events=None)
    status, headers, body = routes.answer(route("/healthcheck"), "check=events&check=apps", None)
    assert status == "500 Internal Server Error"
    lines = body.decode().splitlines()
    assert lines[0].startswith("apps: fail - http://a:1 answered 503 (")
    assert lines[1].startswith("events: WORKING (")
    status, _, body = routes.answer(route("/healthcheck/"), "check=all", None)
    assert [line.split(":")[0] for line in body.decode().splitlines()] == ["auth", "apps", "events"]


def test_index_names_the_target() -> None:
    status, headers, body = local().answer(route("/"), "", None)
    assert status == "200 OK"
    assert ("Content-Type", "text/html; charset=utf-8") in headers
    assert b"tsuru target-add default http://tsuru.example.com -s" in body


def test_debug_needs_the_global_debug_permission() -> None:
    routes = local()
    scoped = Identity(kind="user", name="a", grants=(Grant("debug", "team", "t"),))
    allowed = Identity(kind="user", name="b", grants=(Grant("debug"),))
    root = Identity(kind="user", name="c", grants=(Grant(""),))
    assert routes.answer(route("/debug/goroutines"), "", scoped)[0] == "403 Forbidden"
    assert routes.answer(route("/debug/goroutines"), "", allowed)[0] == "200 OK"
    assert routes.answer(route("/debug/goroutines"), "", root)[0] == "200 OK"
    assert routes.answer(route("/debug/pprof/heap"), "", root)[0] == "404 Not Found"
    assert routes.answer(route("/debug/pprof/heap"), "", scoped)[0] == "403 Forbidden"


def test_metrics_render_counters() -> None:
    metrics = Metrics(None)
    metrics.count("apps", 200)
    metrics.count("apps", 200)
    metrics.error("catalog", "unavailable")
    text = metrics.render()
    assert 'tsubame_gateway_requests_total{service="apps",code="200"} 2' in text
    assert 'tsubame_gateway_upstream_errors_total{service="catalog",kind="unavailable"} 1' in text
