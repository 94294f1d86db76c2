"""An Open Service Broker (API v2) on 127.0.0.1 for the catalog's tests: a catalog
of one service, synchronous and asynchronous provisioning (``big`` answers 202 and
finishes after ``polls_to_finish`` last_operation polls), bindings with credentials.
It records every request and checks the version header and basic auth."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from services.catalog.tests.peers.server import Served

CATALOG = {
    "services": [
        {
            "id": "svc-db",
            "name": "db",
            "description": "A database from the broker",
            "bindable": True,
            "plans": [
                {"id": "plan-small", "name": "small", "description": "sync",
                 "schemas": {"service_instance": {"create": {"parameters": {
                     "$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}}}}},
                {"id": "plan-big", "name": "big", "description": "async"},
            ],
        }
    ]
}  # fmt: skip


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeBroker:
    username: str = "broker-user"
    password: str = "broker-pass"
    polls_to_finish: int = 2
    check_auth: bool = True  # False: any credentials do (a broker for generated requests)
    credentials: dict[str, Any] = field(
        default_factory=lambda: {"DB_URI": "pg://x", "DB_PORT": 5432, "DB_OPTS": {"a": 1}}
    )

    def __post_init__(self) -> None:
        self.received: list[Seen] = []
        self.instances: dict[str, dict[str, Any]] = {}
        self.bindings: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.fail: dict[str, int] = {}  # "provision"/"bind"/... -> status
        self._lock = threading.Lock()
        self._served = Served(self)
        self.url = self._served.url

    def close(self) -> None:
        self._served.close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        raw = request.get_data()
        body = json.loads(raw) if raw.strip() else None
        seen = Seen(request.method, request.path, dict(request.args), dict(request.headers.items()),
                    body)  # fmt: skip
        with self._lock:
            self.received.append(seen)
        auth = request.authorization
        credentials = None if auth is None else (auth.username, auth.password)
        if self.check_auth and credentials != (self.username, self.password):
            return _json({"description": "bad credentials"}, 401)(environ, start_response)
        if request.headers.get("X-Broker-API-Version") != "2.13":
            return _json({"description": "version"}, 412)(environ, start_response)
        return self._route(request, body)(environ, start_response)

    def _route(self, request: Request, body: Any) -> Response:
        parts = request.path.strip("/").split("/")
        m = request.method
        if parts == ["v2", "catalog"]:
            return _json(CATALOG)
        if len(parts) < 3 or parts[:2] != ["v2", "service_instances"]:
            return _json({}, 404)
        iid = parts[2]
        if len(parts) == 3:
            return self._instance(m, iid, body)
        if parts[3] == "last_operation":
            self.polls[iid] = self.polls.get(iid, 0) + 1
            done = self.polls[iid] >= self.polls_to_finish
            state = "succeeded" if done else "in progress"
            return _json({"state": state, "description": None if done else "creating"})
        if parts[3] == "service_bindings" and len(parts) == 5:
            return self._binding(m, parts[4], body)
        return _json({}, 404)

    def _failing(self, op: str) -> Response | None:
        status = self.fail.get(op)
        if status:
            return _json({"error": "Boom", "description": f"{op} failed"}, status)
        return None

    def _instance(self, m: str, iid: str, body: Any) -> Response:
        if m == "PUT":
            failed = self._failing("provision")
            if failed:
                return failed
            self.instances[iid] = body
            if body.get("plan_id") == "plan-big":
                return _json({"operation": "op-create"}, 202)
            return _json({}, 201)
        if m == "PATCH":
            return self._failing("update") or _json({}, 200)
        if m == "DELETE":
            failed = self._failing("deprovision")
            if failed:
                return failed
            return _json({}, 200) if self.instances.pop(iid, None) else _json({}, 410)
        return _json({}, 405)

    def _binding(self, m: str, bid: str, body: Any) -> Response:
        if m == "PUT":
            failed = self._failing("bind")
            if failed:
                return failed
            self.bindings[bid] = body
            return _json({"credentials": self.credentials}, 201)
        if m == "DELETE":
            failed = self._failing("unbind")
            if failed:
                return failed
            return _json({}, 200) if self.bindings.pop(bid, None) else _json({}, 410)
        return _json({}, 405)


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status, mimetype="application/json")
