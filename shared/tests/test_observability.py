"""Request ids, log formats and per-route metrics of a service (no sockets)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared import logs, requestid
from shared.http import Blueprint, make_app, public
from shared.metrics import HttpMetrics, template
from shared.settings import Settings

SECRET = b"s" * 32


@pytest.fixture(autouse=True)
def no_bound_id() -> Iterator[None]:
    """A request an earlier test made through a Flask test client left its id bound
    in this thread (services bind per request and never unbind: each connection has
    its own greenlet); start each test with none."""
    with requestid.bound(None):
        yield


# -- request ids ---------------------------------------------------------------------------


def test_a_client_id_is_kept_when_clean_and_cleaned_when_not() -> None:
    assert requestid.accept("abc") == "abc"
    assert requestid.accept("req-1.2_3:x@y/z+=") == "req-1.2_3:x@y/z+="
    assert requestid.accept('a b"c\r\nd<e>é') == "abcde"
    assert len(requestid.accept("x" * 10_000)) == requestid.MAX_LENGTH
    assert requestid.accept(b"bytes-id") == "bytes-id"


def test_no_usable_client_id_gets_a_new_one() -> None:
    made = {requestid.accept(v) for v in (None, "", " \t", "\x00\x01", "ééé")}
    assert len(made) == 5
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in made)


def test_the_bound_id_is_per_thread() -> None:
    seen: dict[str, str | None] = {}
    outer = requestid.current()  # whatever an earlier test's request left bound here
    with requestid.bound("main-id"):

        def other() -> None:
            seen["before"] = requestid.current()
            requestid.bind("thread-id")
            seen["after"] = requestid.current()

        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert requestid.current() == "main-id"
    assert requestid.current() == outer
    assert seen == {"before": None, "after": "thread-id"}


def test_a_pool_thread_runs_a_carried_function_under_the_callers_id() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with requestid.bound("abc"), ThreadPoolExecutor(2) as pool:
        carried = list(pool.map(requestid.carried(lambda _: requestid.current()), range(4)))
        bare = list(pool.map(lambda _: requestid.current(), range(4)))
    assert carried == ["abc"] * 4
    assert bare == [None] * 4


def test_bus_headers_carry_the_bound_id_and_are_sanitised_on_arrival() -> None:
    with requestid.bound(None):
        assert requestid.bus_headers() is None
    with requestid.bound("abc"):
        assert requestid.bus_headers() == {"x-request-id": "abc"}
    assert requestid.from_bus_headers({"x-request-id": b"abc"}) == "abc"
    assert requestid.from_bus_headers({"x-request-id": "a b\nc"}) == "abc"
    assert requestid.from_bus_headers({"x-request-id": 5}) is None
    assert requestid.from_bus_headers(None) is None


def test_bus_message_properties_carry_the_bound_id() -> None:
    from shared.bus import amqp

    with requestid.bound(None):
        assert amqp.properties().headers is None
    with requestid.bound("abc"):
        assert amqp.properties(correlation_id="c").headers == {"x-request-id": "abc"}


# -- log formats ---------------------------------------------------------------------------


def _record(message: str = "hello %s", args: tuple[Any, ...] = ("world",)) -> logging.LogRecord:
    return logging.LogRecord("tsubame.test", logging.WARNING, __file__, 1, message, args, None)


def test_text_lines_carry_the_request_id_or_a_dash() -> None:
    fmt = logs.TextFormatter()
    context = logs.ContextFilter("auth")
    record = _record()
    context.filter(record)
    assert fmt.format(record).endswith(" WARNING tsubame.test [-] hello world")
    with requestid.bound("abc"):
        record = _record()
        context.filter(record)
    assert fmt.format(record).endswith(" WARNING tsubame.test [abc] hello world")


def test_json_lines_are_one_object_with_the_fields() -> None:
    context = logs.ContextFilter("apps-worker", "apps-worker-2")
    with requestid.bound("abc"):
        record = _record("two\nlines %s", ("x",))
        context.filter(record)
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "WARNING"
    assert data["logger"] == "tsubame.test"
    assert data["message"] == "two\nlines x"
    assert data["request_id"] == "abc"
    assert data["service"] == "apps-worker"
    assert data["instance"] == "apps-worker-2"
    assert data["time"].endswith("+00:00") and "T" in data["time"]


def test_json_lines_carry_exceptions_on_the_same_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", None, exc_info=__import__("sys").exc_info()
        )
    logs.ContextFilter("auth").filter(record)
    data = json.loads(logs.JsonFormatter().format(record))
    assert data["request_id"] is None
    assert "ValueError: boom" in data["exception"]


def test_the_format_and_level_come_from_the_environment() -> None:
    assert logs.log_format({}) == "text"
    assert logs.log_format({"TSUBAME_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ValueError, match="TSUBAME_LOG_FORMAT must be one of text, json"):
        logs.log_format({"TSUBAME_LOG_FORMAT": "xml"})
    assert logs.log_level({"TSUBAME_LOG_LEVEL": "debug"}) == logging.DEBUG
    assert logs.log_level({"TSUBAME_LOG_LEVEL": "warn"}) == logging.WARNING
    with pytest.raises(ValueError, match="TSUBAME_LOG_LEVEL"):
        logs.log_level({"TSUBAME_LOG_LEVEL": "loud"})


def test_render_line_follows_the_given_environment() -> None:
    text = logs.render_line("launcher", "starting auth", environ={})
    assert text.endswith(" INFO launcher [-] starting auth")
    env = {"TSUBAME_LOG_FORMAT": "json", "TSUBAME_PROCESS_NAME": "auth-2"}
    data = json.loads(logs.render_line("launcher", "starting auth", environ=env))
    assert (data["service"], data["instance"], data["message"]) == (
        "launcher",
        "auth-2",
        "starting auth",
    )


def test_configure_sends_the_root_logger_in_the_chosen_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, dict(logs._configured))
    monkeypatch.setenv("TSUBAME_LOG_FORMAT", "json")
    stream = io.StringIO()
    try:
        logs._configured.clear()
        logs.configure("events-worker", stream=stream, force=True)
        with requestid.bound("r-1"):
            logging.getLogger("tsubame.x").info("handled %d", 3)
        logging.getLogger("pika").info("connection step")  # quietened
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
        logs._configured.clear()
        logs._configured.update(saved[2])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(d["message"], d["request_id"], d["service"]) for d in lines] == [
        ("handled 3", "r-1", "events-worker")
    ]


def test_service_names_come_from_the_application() -> None:
    assert logs.service_of_app("services.auth.wsgi:app") == "auth"
    assert logs.service_of_app("gateway.wsgi:app") == "gateway"


# -- a service's request ids and metrics -----------------------------------------------------


def test_rules_become_templates() -> None:
    assert template("/apps/<appname>/env") == "/apps/{appname}/env"
    assert template("/apps/<path:name>/x/<int:n>") == "/apps/{name}/x/{n}"
    metrics = HttpMetrics("t")
    assert metrics.route(None) == "none"


def _app() -> Any:
    bp = Blueprint("t", __name__)

    @bp.route("/things/<name>", methods=["GET"])
    @public
    def thing(name: str) -> Any:
        logging.getLogger("tsubame.things").warning("looking at %s", name)
        return {"name": name, "rid": requestid.current()}

    @bp.route("/things/<name>", methods=["POST"])
    @bp.route("/internal/things/<name>", methods=["POST"])
    @public
    def change(name: str) -> Any:
        return ({"name": name}, 200) if name != "bad" else ({"name": name}, 400)

    settings = Settings(
        data_dir="/tmp/x", namespace="t", mongo_url="", amqp_url="", identity_secret=SECRET
    )
    return make_app("obstest", settings, blueprints=[bp])


def test_request_lines_are_info_for_changes_and_failures_debug_for_reads_and_internal_calls(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = _app().test_client()
    with caplog.at_level(logging.DEBUG, logger="tsubame.requests"):
        client.get("/things/a")
        client.post("/things/a")
        client.post("/internal/things/a")
        client.post("/internal/things/bad")
    got = [
        (r.levelname, r.getMessage().rsplit(" ", 1)[0])
        for r in caplog.records
        if r.name == "tsubame.requests"
    ]
    assert got == [
        ("DEBUG", "GET /things/a 200"),
        ("INFO", "POST /things/a 200"),
        ("DEBUG", "POST /internal/things/a 200"),
        ("INFO", "POST /internal/things/bad 400"),
    ]


def _value(body: bytes, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def test_a_service_binds_and_answers_the_request_id() -> None:
    client = _app().test_client()
    resp = client.get("/things/a", headers={"X-Request-Id": "abc"})
    assert resp.headers["X-Request-Id"] == "abc"
    assert resp.get_json()["rid"] == "abc"
    resp = client.get("/things/b")
    made = resp.headers["X-Request-Id"]
    assert len(made) == 32 and resp.get_json()["rid"] == made


def test_a_service_counts_requests_by_route_template_and_status() -> None:
    app = _app()
    client = app.test_client()
    labels = {"service": "obstest", "method": "GET", "route": "/things/{name}", "code": "200"}
    before = _internal_metrics(client)
    for name in ("a", "b", "c"):
        client.get(f"/things/{name}")
    client.get("/nothing/here")
    after = _internal_metrics(client)
    count = "tsubame_http_request_duration_seconds_count"
    assert _value(after, count, **labels) - _value(before, count, **labels) == 3
    assert "/things/a" not in after.decode()
    fast = "tsubame_http_request_duration_seconds_bucket"
    assert _value(after, fast, **labels, le="+Inf") - _value(before, fast, **labels, le="+Inf") == 3
    unbuilt = {"service": "obstest", "route": "none", "code": "501"}
    assert _value(after, count, **unbuilt) - _value(before, count, **unbuilt) == 1


def _internal_metrics(client: Any) -> bytes:
    from shared.identity import internal_identity, sign

    header = sign(internal_identity("gateway"), SECRET, method="GET", path="/internal/metrics")
    resp = client.get("/internal/metrics", headers={"X-Tsubame-Identity": header})
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain; version=0.0.4")
    return bytes(resp.data)


def test_internal_metrics_need_the_internal_identity() -> None:
    from werkzeug.test import Client

    plain = Client(_app())  # no signing test client: an anonymous caller
    assert plain.get("/internal/metrics").status_code == 401


# -- per-instance metrics directories --------------------------------------------------------


def test_an_instance_starts_with_an_empty_directory_of_its_own(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import socket

    from shared.httpserver import prepare_metrics_dir

    root = tmp_path / "run" / "metrics"
    host = socket.gethostname()
    dead = root / f"auth.{host}.999999999"  # an unnamed instance of this host, gone
    alive = root / f"auth.{host}.{os.getpid()}"  # one still running
    elsewhere = root / "auth.otherhost.999999999"  # another container's: not ours to judge
    own = root / "auth-2"
    for d in (dead, alive, elsewhere, own):
        d.mkdir(parents=True)
        (d / "counter_1.db").write_bytes(b"old")
    monkeypatch.setenv("TSUBAME_PROCESS_NAME", "auth-2")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    made = prepare_metrics_dir("services.auth.wsgi:app", str(tmp_path))
    assert made == own and list(own.iterdir()) == []
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(own)
    assert not dead.exists() and alive.exists() and elsewhere.exists()
    monkeypatch.delenv("TSUBAME_PROCESS_NAME")
    unnamed = prepare_metrics_dir("gateway.wsgi:app", str(tmp_path))
    assert unnamed.name == f"gateway.{host}.{os.getpid()}"


GEVENT_ERROR = """
import gevent, io, json, logging, os
from shared import logs, requestid
os.environ["TSUBAME_LOG_FORMAT"] = "json"
logs.configure("auth", force=True)
logs.log_gevent_errors()
def boom():
    requestid.bind("g-1")
    raise ValueError("greenlet died")
gevent.spawn(boom).join()
"""


def test_a_greenlets_death_is_logged_in_the_process_format() -> None:
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-c", GEVENT_ERROR],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert len(lines) == 1, done.stderr
    assert lines[0]["logger"] == "gevent.hub"
    assert "ValueError: greenlet died" in lines[0]["exception"]
