"""The plain-text stream of deploys and builds (shared/http/textstream.py)."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask

from shared.errors import Conflict, NotFound
from shared.http.textstream import KEEPALIVE_TEXT, TextWriter, text_stream


@pytest.fixture()
def app() -> Flask:
    return Flask("t")


def answer(app: Flask, operation, keepalive: float = 30.0):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        return text_stream(operation, keepalive=keepalive)


def test_output_streams_with_headers_and_text_type(app: Flask) -> None:
    def op(w: TextWriter) -> None:
        w.headers["X-Tsuru-Eventid"] = "abc"
        w.write("building\n")
        w.write("")  # nothing: no chunk
        w.write("\nOK\n")

    resp = answer(app, op)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text"
    assert resp.headers["X-Tsuru-Eventid"] == "abc"
    assert b"".join(resp.response) == b"building\n\nOK\n"  # type: ignore[arg-type]


def test_error_before_output_keeps_its_status_and_headers(app: Flask) -> None:
    def op(w: TextWriter) -> None:
        w.headers["X-Tsuru-Eventid"] = "abc"
        raise Conflict("event locked: app(x) running")

    resp = answer(app, op)
    assert resp.status_code == 409
    assert resp.get_data(as_text=True) == "event locked: app(x) running\n"
    assert resp.headers["X-Tsuru-Eventid"] == "abc"
    assert resp.headers["Content-Type"].startswith("text/plain")


def test_error_after_output_is_a_text_line(app: Flask) -> None:
    def op(w: TextWriter) -> None:
        w.write("step 1\n")
        raise NotFound("\n---- ERROR during deploy: ----\nboom\n")

    resp = answer(app, op)
    assert resp.status_code == 200
    body = b"".join(resp.response).decode()  # type: ignore[arg-type]
    assert body == "step 1\n\n---- ERROR during deploy: ----\nboom\n\n"


def test_unexpected_error_after_output_hides_its_details(app: Flask) -> None:
    def op(w: TextWriter) -> None:
        w.write("step\n")
        raise RuntimeError("secret driver detail")

    resp = answer(app, op)
    body = b"".join(resp.response).decode()  # type: ignore[arg-type]
    assert "secret" not in body and body.startswith("step\n")


def test_silence_is_answered_with_please_wait(app: Flask) -> None:
    release = threading.Event()

    def op(w: TextWriter) -> None:
        release.wait(5)
        w.write("done")

    start = time.monotonic()
    resp = answer(app, op, keepalive=0.2)
    assert time.monotonic() - start < 2
    chunks = iter(resp.response)  # type: ignore[arg-type]
    assert next(chunks) == (KEEPALIVE_TEXT + "\n").encode()  # the answer starts at the ping
    assert next(chunks) == (KEEPALIVE_TEXT + "\n").encode()
    release.set()
    rest = b"".join(chunks)
    assert rest.endswith(b"done")


def test_keepalive_after_a_partial_line_starts_a_new_line(app: Flask) -> None:
    release = threading.Event()

    def op(w: TextWriter) -> None:
        w.write("no newline yet")
        release.wait(5)

    resp = answer(app, op, keepalive=0.2)
    chunks = iter(resp.response)  # type: ignore[arg-type]
    assert next(chunks) == b"no newline yet"
    assert next(chunks) == ("\n" + KEEPALIVE_TEXT + "\n").encode()
    release.set()
    assert list(chunks) in ([], [("\n" + KEEPALIVE_TEXT + "\n").encode()])
