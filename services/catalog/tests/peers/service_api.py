"""A tsuru-style service API on 127.0.0.1 for the catalog's tests
(tsuru-1.11-service_api.yaml): it answers every call tsuru makes, records what it
receives, and can be told to fail, to hold a request, or to answer slowly.

``api.script("POST", "/resources/db1/bind-app", 500, "boom")`` makes the next such
call (or every one, ``times=None``) answer that; ``api.hold("GET", "/resources/db1")``
keeps such a call waiting until ``api.release()``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from services.catalog.tests.peers.server import Served


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    form: list[tuple[str, str]]
    body: bytes

    def field(self, name: str) -> list[str]:
        return [v for k, v in self.form if k == name]


@dataclass
class Scripted:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: bytes
    headers: dict[str, str]
    times: int | None


@dataclass
class FakeServiceApi:
    envs: dict[str, Any] = field(default_factory=lambda: {"DB_HOST": "10.0.0.1", "DB_USER": "u"})
    plans: list[dict[str, str]] = field(
        default_factory=lambda: [{"name": "small", "description": "1 cpu"}]
    )
    info: list[dict[str, str]] = field(default_factory=lambda: [{"label": "Address", "value": "a"}])

    delay: float = 0.0  # seconds every answer waits (a slow API)

    def __post_init__(self) -> None:
        self.received: list[Received] = []
        self._scripts: list[Scripted] = []
        self._holds: list[tuple[str, re.Pattern[str]]] = []
        self._released = threading.Event()
        self.held = threading.Event()
        self._lock = threading.Lock()
        self._served = Served(self)
        self.url = self._served.url

    def close(self) -> None:
        self.release()
        self._served.close()

    # -- control -------------------------------------------------------------------------

    def script(
        self, method: str, path: str, status: int, body: Any = b"", *, times: int | None = 1,
        headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        raw = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode()
        )  # fmt: skip
        with self._lock:
            self._scripts.append(
                Scripted(method, re.compile(f"^{path}$"), status, raw, headers or {}, times)
            )

    def hold(self, method: str, path: str) -> None:
        self._released.clear()
        self._holds.append((method, re.compile(f"^{path}$")))

    def release(self) -> None:
        self._holds.clear()
        self._released.set()

    def calls(self, method: str | None = None, path: str | None = None) -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.received
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    # -- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        ctype = request.mimetype
        form = (
            parse_qsl(body.decode(), keep_blank_values=True) if ctype.endswith("urlencoded") else []
        )
        if request.method == "GET":
            form = parse_qsl(request.query_string.decode(), keep_blank_values=True)
        got = Received(request.method, request.path, request.query_string.decode(),
                       dict(request.headers.items()), form, body)  # fmt: skip
        with self._lock:
            self.received.append(got)
        if any(m == request.method and p.match(request.path) for m, p in self._holds):
            self.held.set()
            self._released.wait(60)
        if self.delay:
            time.sleep(self.delay)
        resp = self._scripted(request) or self._default(request, got)
        return resp(environ, start_response)

    def _scripted(self, request: Request) -> Response | None:
        with self._lock:
            for s in self._scripts:
                if s.method == request.method and s.pattern.match(request.path):
                    if s.times is not None:
                        s.times -= 1
                        if s.times <= 0:
                            self._scripts.remove(s)
                    return Response(s.body, s.status, headers=s.headers)
        return None

    def _default(self, request: Request, got: Received) -> Response:
        m, path = request.method, request.path
        if m == "POST" and path == "/resources":
            return Response("", 201)
        if m == "GET" and path == "/resources/plans":
            return _json(self.plans)
        parts = path.strip("/").split("/")
        if parts[0] == "resources" and len(parts) == 2:
            return _json(self.info) if m == "GET" else Response("", 200)
        if parts[0] == "resources" and len(parts) == 3:
            action = parts[2]
            if action == "status":
                return Response("", 204)
            if action == "bind-app" and m == "POST":
                return _json(self.envs, 201)
            if action in ("bind-app", "bind"):
                return Response("", 200 if m == "DELETE" else 201)
        # Anything else (proxied calls): echo what arrived.
        echo = {"method": m, "path": path, "query": got.query, "body": got.body.decode("latin-1"),
                "headers": got.headers}  # fmt: skip
        return _json(echo, 200)


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status, mimetype="application/json")
