"""A fake apps service for the catalog's tests: the internal calls of docs/runtime.md
"Service bindings", held to tests/contracts/apps_for_catalog.py like the real one.

It verifies the signed internal identity as a service would, keeps app records in
memory, and writes a restart line per restart (``fail_restart`` makes the restart end
with an ``Error`` line, as a failed restart does after streaming began).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from services.catalog.tests.peers.server import Served
from shared.http.auth import wsgi_path
from shared.http.stream import line
from shared.identity import IDENTITY_HEADER, InvalidIdentity, verify


@dataclass
class FakeApp:
    name: str
    teams: list[str]
    pool: str
    units: list[tuple[str, str]]
    envs: list[dict[str, str]] = field(default_factory=list)
    restarts: int = 0


class FakeApps:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.apps: dict[str, FakeApp] = {}
        self.fail_restart = False
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._urls = Map(
            [
                Rule("/internal/apps/<app>", endpoint="app", methods=["GET"]),
                Rule("/internal/apps/<app>/service-envs", endpoint="envs", methods=["POST"]),
                Rule("/internal/apps/<app>/service-envs", endpoint="unset", methods=["DELETE"]),
            ]
        )
        self._served = Served(self)
        self.url = self._served.url

    def close(self) -> None:
        self._served.close()

    # -- the peer hooks of the contract suite ------------------------------------------

    def add_app(
        self, name: str, *, teams: list[str], pool: str, units: list[tuple[str, str]]
    ) -> None:
        with self._lock:
            self.apps[name] = FakeApp(name, list(teams), pool, list(units))

    def service_envs(self, app: str) -> list[dict[str, str]]:
        with self._lock:
            return [dict(e) for e in self.apps[app].envs]

    def remove_app(self, name: str) -> None:
        with self._lock:
            self.apps.pop(name, None)

    def set_units(self, name: str, units: list[tuple[str, str]]) -> None:
        with self._lock:
            self.apps[name].units = list(units)

    # -- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            verify(
                request.headers.get(IDENTITY_HEADER, ""),
                self.secret,
                method=request.method,
                path=wsgi_path(environ),
                max_age=15,
            )
        except InvalidIdentity:
            return Response("invalid identity\n", 401)(environ, start_response)
        adapter = self._urls.bind_to_environ(environ)
        endpoint, args = adapter.match()
        self.calls.append((request.method, request.full_path))
        with self._lock:
            app = self.apps.get(args["app"])
        if app is None:
            resp = Response(f"App {args['app']} not found.\n", 404, mimetype="text/plain")
        elif endpoint == "app":
            resp = Response(json.dumps(_app_json(app)), 200, mimetype="application/json")
        elif endpoint == "envs":
            resp = self._stream(self._set(app, json.loads(request.get_data() or b"{}")))
        else:
            resp = self._stream(self._unset(app, request.args))
        return resp(environ, start_response)

    @staticmethod
    def _stream(lines: Iterator[str]) -> Response:
        return Response(list(lines), 200, mimetype="application/x-json-stream")

    def _set(self, app: FakeApp, body: dict[str, Any]) -> Iterator[str]:
        service, instance = body["service"], body["instance"]
        envs: dict[str, str] = body.get("envs") or {}
        with self._lock:
            app.envs = [e for e in app.envs if (e["service"], e["instance"]) != (service, instance)]
            app.envs += [
                {"name": k, "value": envs[k], "service": service, "instance": instance}
                for k in sorted(envs)
            ]
        if not envs:
            return
        yield line(f"---- Setting {len(envs) + 1} new environment variables ----\n")
        if body.get("restart") and app.units:
            yield from self._restart(app)

    def _unset(self, app: FakeApp, args: Any) -> Iterator[str]:
        key = (args.get("service", ""), args.get("instance", ""))
        with self._lock:
            kept = [e for e in app.envs if (e["service"], e["instance"]) != key]
            removed = len(app.envs) - len(kept)
            app.envs = kept
        if not removed:
            return
        yield line(f"---- Unsetting {removed} environment variables ----\n")
        if args.get("restart") == "true" and app.units:
            yield from self._restart(app)

    def _restart(self, app: FakeApp) -> Iterator[str]:
        yield line(f'---- Restarting the app "{app.name}" ----\n')
        if self.fail_restart:
            yield line("", error=f'restart of "{app.name}" failed')
            return
        app.restarts += 1


def _app_json(app: FakeApp) -> dict[str, Any]:
    return {
        "name": app.name,
        "teams": app.teams,
        "team_owner": app.teams[0] if app.teams else "",
        "pool": app.pool,
        "platform": "python",
        "addresses": [f"{app.name}.tsubame.localhost"],
        "internal_addresses": [],
        "units": [{"id": uid, "ip": ip} for uid, ip in app.units],
    }
