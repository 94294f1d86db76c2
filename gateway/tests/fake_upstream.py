"""A stand-in service for the gateway's end-to-end tests and benchmark.

``python -m gateway.tests.fake_upstream --name apps --port 8001 [--control DIR]``

* ``GET /internal/health`` -> 200 ``ok``;
* ``POST /internal/introspect``: token ``good...`` -> 200 identity (user
  ``<token>@example.com``; ``good-debug`` also holds the global ``debug`` grant),
  ``expired`` -> 401 ``team token expired``, ``slow`` -> sleeps 3 s first, anything
  else -> 401 empty; each call is counted in ``GET /internal/introspections``;
* ``GET /apps/streamer/log``: writes one line, waits until the file
  ``<control>/go`` exists, writes a second line;
* ``GET /internal/routes`` (the provisioner): the app route table in
  ``<control>/routes.json``, ``{"seq": 0, "routes": []}`` without one;
* ``GET /apps/sleeper/env``: sleeps 3 s before answering;
* ``/apps/hold-<id>/env`` (any method): creates ``<control>/seen-<port>-<id>``; if the file
  ``<control>/hold-<port>`` exists, also ``<control>/held-<port>-<id>``, then waits
  (up to 60 s) for a test to kill this instance while it holds the request;
* ``/apps/cut-<id>/env?declared=N&sent=M`` (any method): creates ``<control>/seen-<port>-<id>``;
  if the file ``<control>/cut-<port>`` exists, answers a head declaring N body bytes,
  writes M of them and exits at once, as an instance killed while writing its answer;
* anything else: 200 JSON describing the request (service name, port, method, path, query,
  headers, body length and sha256), the body read in chunks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gevent import monkey

DEBUG_GRANTS = [["debug", "global", ""]]


def make_app(name: str, control: Path | None, port: int = 0) -> Any:
    introspections = [0]

    def identity_for(token: str) -> dict[str, Any]:
        return {
            "kind": "user",
            "name": f"{token}@example.com",
            "email": f"{token}@example.com",
            "token_kind": "session",
            "grants": DEBUG_GRANTS if token == "good-debug" else [["app.read", "global", ""]],
            "token_hash": "",
        }

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes] | list[bytes]:
        path = environ["PATH_INFO"]
        method = environ["REQUEST_METHOD"]
        if path == "/internal/health":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if path == "/internal/introspections":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [str(introspections[0]).encode()]
        if path == "/internal/introspect" and method == "POST":
            introspections[0] += 1
            token = json.loads(environ["wsgi.input"].read())["token"]
            if token == "slow":
                time.sleep(3)
            if token.startswith("good"):
                body = json.dumps(identity_for(token)).encode()
                start_response("200 OK", [("Content-Type", "application/json")])
                return [body]
            if token == "expired":
                start_response("401 Unauthorized", [("Content-Type", "text/plain")])
                return [b"team token expired\n"]
            start_response("401 Unauthorized", [])
            return [b""]
        if path == "/internal/routes" and name == "provisioner":
            table = control / "routes.json" if control is not None else None
            body = table.read_bytes() if table and table.exists() else b'{"seq":0,"routes":[]}'
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path == "/apps/streamer/log" and control is not None:
            start_response("200 OK", [("Content-Type", "application/x-json-stream")])
            return _stream(control)
        if path == "/apps/sleeper/env":
            time.sleep(3)
        if path.startswith("/apps/hold-") and path.endswith("/env") and control is not None:
            _hold(control, port, path.split("/")[2].removeprefix("hold-"))
        if path.startswith("/apps/cut-") and path.endswith("/env") and control is not None:
            _cut(control, port, path.split("/")[2].removeprefix("cut-"), environ, start_response)
        digest = hashlib.sha256()
        size = 0
        stream = environ["wsgi.input"]
        while True:
            chunk = stream.read(65536)
            if not chunk:
                break
            size += len(chunk)
            digest.update(chunk)
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        body = json.dumps(
            {
                "service": name,
                "instance": port,
                "method": method,
                "path": environ.get("RAW_URI", path).split("?")[0],
                "query": environ.get("QUERY_STRING", ""),
                "headers": headers,
                "body_length": size,
                "body_sha256": digest.hexdigest(),
            }
        ).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
                ("Connection", "X-Secret-Hop"),
                ("X-Secret-Hop", "must not pass"),
            ],
        )
        return [body]

    return app


def _hold(control: Path, port: int, request_id: str) -> None:
    (control / f"seen-{port}-{request_id}").touch()
    if not (control / f"hold-{port}").exists():
        return
    (control / f"held-{port}-{request_id}").touch()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)


def _cut(
    control: Path, port: int, request_id: str, environ: dict[str, Any], start_response: Any
) -> None:
    (control / f"seen-{port}-{request_id}").touch()
    if not (control / f"cut-{port}").exists():
        return
    query = dict(part.partition("=")[::2] for part in environ["QUERY_STRING"].split("&"))
    declared, sent = int(query.get("declared", "1000")), int(query.get("sent", "0"))
    environ["wsgi.input"].read()  # all of the request read: the exit closes, not resets
    write = start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(declared))])  # fmt: skip
    write(b"x" * sent)  # the head (and these bytes) leave now
    os._exit(1)


def _stream(control: Path) -> Iterator[bytes]:
    yield b'{"Message":"first\\n"}\n'
    while not (control / "go").exists():
        time.sleep(0.01)
    yield b'{"Message":"second\\n"}\n'


def main() -> None:
    monkey.patch_all()
    from gevent.pywsgi import WSGIHandler, WSGIServer

    class Handler(WSGIHandler):
        def handle(self) -> None:
            # Headers and body leave in two writes: without this, Nagle's algorithm and
            # the client's delayed ACK add 40 ms to every answer.
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle()

        # Expose the raw request target (gunicorn's RAW_URI) so tests see encoding.
        def get_environ(self) -> dict[str, Any]:
            environ: dict[str, Any] = super().get_environ()
            environ["RAW_URI"] = self.path
            return environ

    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control", type=Path)
    args = parser.parse_args()
    server = WSGIServer(
        ("127.0.0.1", args.port),
        make_app(args.name, args.control, args.port),
        log=None,
        handler_class=Handler,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
