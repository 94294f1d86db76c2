"""Routes the gateway answers itself (no sockets)."""

from __future__ import annotations

from gateway.instances import InstanceHealth
from gateway.local import LocalRoutes
from gateway.metrics import Metrics
from gateway.routing import Route
from shared.identity import Grant, Identity


class Healthy:
    """An upstream whose instances answer (None) or fail (a reason) the health probe."""

    def __init__(self, *answers: str | None, states: tuple[str, ...] = ()) -> None:
        self.answers = answers
        self.states = states or ("up",) * len(answers)

    def health(self, timeout: float = 5.0) -> list[InstanceHealth]:
        return [
            InstanceHealth(f"http://10.0.0.{n}:8000", state, answer, 0.0015)
            for n, (answer, state) in enumerate(zip(self.answers, self.states, strict=True), 1)
        ]


def local(**upstreams: str | None | Healthy) -> LocalRoutes:
    return LocalRoutes(
        "http://tsuru.example.com",
        {  # type: ignore[misc]
            name: answer if isinstance(answer, Healthy) else Healthy(answer)
            for name, answer in upstreams.items()
        },
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
    routes = local(auth=None, apps="answered 503", events=None)
    status, headers, body = routes.answer(route("/healthcheck"), "check=events&check=apps", None)
    assert status == "500 Internal Server Error"
    lines = body.decode().splitlines()
    assert lines[0].startswith("apps: fail - http://10.0.0.1:8000: answered 503 (")
    assert lines[1] == "  http://10.0.0.1:8000: fail - answered 503 (1.5ms)"
    assert lines[2].startswith("events: WORKING (")
    assert lines[3] == "  http://10.0.0.1:8000: WORKING (1.5ms)"
    status, _, body = routes.answer(route("/healthcheck/"), "check=all", None)
    services = [line.split(":")[0] for line in body.decode().splitlines() if line[0] != " "]
    assert services == ["auth", "apps", "events"]


def test_healthcheck_shows_each_instance_and_its_state() -> None:
    routes = local(
        auth=Healthy(None, None, "connection refused", states=("up", "up", "down")),
        apps=Healthy(None, "connection refused", states=("up", "draining")),
    )
    status, _, body = routes.answer(route("/healthcheck"), "check=all", None)
    lines = body.decode().splitlines()
    # A dead instance the launcher is restarting fails its service ...
    assert lines[0].startswith("auth: fail - http://10.0.0.3:8000: connection refused (")
    assert lines[1:4] == [
        "  http://10.0.0.1:8000: WORKING (1.5ms)",
        "  http://10.0.0.2:8000: WORKING (1.5ms)",
        "  http://10.0.0.3:8000: fail - connection refused, down (1.5ms)",
    ]
    # ... a draining one (about to stop on purpose) does not.
    assert lines[4].startswith("apps: WORKING (")
    assert lines[6] == "  http://10.0.0.2:8000: fail - connection refused, draining (1.5ms)"
    assert status == "500 Internal Server Error"
    status, _, _ = routes.answer(route("/healthcheck"), "check=apps", None)
    assert status == "200 OK"


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


def test_metrics_answered_in_the_prometheus_text_format() -> None:
    metrics = Metrics(None)
    metrics.count("apps", 200)
    routes = LocalRoutes("http://tsuru.example.com", {}, metrics)
    status, headers, body = routes.answer(route("/metrics"), "", None)
    assert status == "200 OK"
    assert dict(headers)["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert b"# TYPE tsubame_gateway_requests_total counter" in body


def test_index_offers_the_dashboard_to_browsers_only() -> None:
    routes = local()
    chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
    for accept in (chrome, "text/html", "TEXT/HTML; q=0.5"):
        status, headers, body = routes.answer(route("/"), "", None, "/", accept)
        assert (status, dict(headers)["Location"], body) == ("302 Found", "/ui/", b"")
    # The tsuru CLI and curl (no Accept, */*) keep tsuru's index page.
    for accept in ("", "*/*", "application/json", "text/html;q=0", "text/plain, text/*"):
        status, headers, body = routes.answer(route("/"), "", None, "/", accept)
        assert status == "200 OK"
        assert b"Welcome to tsuru!" in body
        assert dict(headers)["Content-Type"] == "text/html; charset=utf-8"
