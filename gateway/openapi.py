"""The public OpenAPI document: every service's document merged over the route table.

Each service generates its document from its route declarations and serves it at
``GET /internal/openapi.json``. The gateway asks every service (a short timeout,
the answers cached briefly) and lays the operations they document over its own route
table, so the document covers tsuru's whole surface:

* an operation a service documents is ``x-tsubame-built: true``; the seed's statuses
  it does not declare are added with the seed's descriptions (tsuru documents them);
* a route no service documents is ``x-tsubame-built: false``, with the seed's title
  and statuses plus the 501 it answers today;
* a service that did not answer is named in ``x-tsubame-missing-services`` and in
  the description; its routes are listed from the seed, never invented.

The gateway never interprets a service's operation beyond renaming component
schemas that two services spell alike.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from shared.identity import internal_identity, sign
from shared.openapi import map_refs, openapi_path, path_params, path_shape, reachable_schemas

from .local_doc import GATEWAY_OPERATIONS
from .requestbody import RequestBody
from .routing import Route
from .upstream import Upstream, UpstreamError

log = logging.getLogger("tsubame.gateway")

SEED_FILE = Path(__file__).with_name("seed-operations.json")
DOCUMENT_PATH = "/internal/openapi.json"
VERSION = "1.11.0"
METHODS = ("get", "put", "post", "delete", "patch")
TEXT_CONTENT = {"text/plain": {"schema": {"type": "string"}}}
# A service's document is bounded: it is ours, but a broken one must not eat memory.
MAX_DOCUMENT = 16 * 1024 * 1024

ServiceDoc = dict[str, Any]
Fetch = Callable[[], Mapping[str, ServiceDoc | None]]


def load_seed(path: Path = SEED_FILE) -> dict[tuple[str, str], dict[str, Any]]:
    """Seed entries by (method, shape of the path)."""
    entries = json.loads(path.read_text())
    return {(e["method"], path_shape(e["path"])): e for e in entries}


def _text_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": json.loads(json.dumps(TEXT_CONTENT))}


def _seed_responses(seed: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, description in (seed or {}).get("responses", {}).items():
        if status.startswith(("4", "5")):
            out[status] = _text_response(description)
        else:
            out[status] = {"description": description}
    return out


class _Schemas:
    """Component schemas of every service in one namespace.

    Two services may name different schemas alike: the later one is renamed
    ``<Name>.<service>`` (its operations' references follow).
    """

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def add(self, ctx: str, doc: ServiceDoc) -> Callable[[str], str]:
        own = doc.get("components", {}).get("schemas", {})
        names: dict[str, str] = {str(name): str(name) for name in own}
        for name, schema in own.items():
            if name in self.schemas and self.schemas[name] != schema:
                names[name] = f"{name}.{ctx}"

        def rename(name: str) -> str:
            return names.get(name, name)

        for name, schema in own.items():
            self.schemas[rename(name)] = map_refs(schema, rename)
        return rename


def _service_operations(
    docs: Mapping[str, ServiceDoc | None], schemas: _Schemas
) -> dict[tuple[str, str], tuple[str, str, dict[str, Any], list[Any]]]:
    """(METHOD, shape) -> (service, path, operation, path-level parameters)."""
    found: dict[tuple[str, str], tuple[str, str, dict[str, Any], list[Any]]] = {}
    for ctx, doc in docs.items():
        if doc is None:
            continue
        rename = schemas.add(ctx, doc)
        for path, item in doc.get("paths", {}).items():
            if path.startswith("/internal/"):
                continue  # only our own processes call these
            params = map_refs(item.get("parameters", []), rename)
            for method in METHODS:
                if method in item:
                    op = map_refs(item[method], rename)
                    found[(method.upper(), path_shape(path))] = (ctx, path, op, params)
    return found


def _path_parameters(template: str, declared: Iterable[Any]) -> list[dict[str, Any]]:
    by_name = {p.get("name"): p for p in declared if isinstance(p, dict) and p.get("in") == "path"}
    return [
        by_name.get(name)
        or {
            "in": "path",
            "name": name,
            "required": True,
            "schema": {"type": "string", "minLength": 1},
        }
        for name in path_params(template)
    ]


def _security(route: Route) -> list[dict[str, list[str]]]:
    return [] if route.public else [{"tsuru": []}]


def _built(
    route: Route,
    service: tuple[str, str, dict[str, Any], list[Any]],
    seed: dict[str, Any] | None,
) -> dict[str, Any]:
    ctx, _path, op, _params = service
    op = dict(op)
    responses = _seed_responses(seed)
    responses.update(op.get("responses", {}))
    if not route.public:
        responses.setdefault("401", _text_response("Unauthorized"))
    op["responses"] = dict(sorted(responses.items()))
    if seed and not op.get("summary"):
        op["summary"] = seed["summary"]
    op["security"] = _security(route)
    op["x-tsubame-built"] = True
    op["x-tsubame-service"] = ctx
    return op


def _not_built(route: Route, seed: dict[str, Any] | None, missing: bool) -> dict[str, Any]:
    responses = _seed_responses(seed)
    if missing:
        why = f"The {route.owner} service did not answer: its document is missing."
    else:
        why = "Not built yet: Tsubame answers 501 with a plain-text reason."
        responses["501"] = _text_response("Not built yet")
    if not route.public:
        responses.setdefault("401", _text_response("Unauthorized"))
    if not responses:
        responses["default"] = {"description": "tsuru documents no status for this route"}
    op: dict[str, Any] = {
        "summary": (seed or {}).get("summary") or f"{route.method} {route.template}",
        "description": why,
        "tags": [f"{route.owner} (not built)" if not missing else route.owner],
        "responses": dict(sorted(responses.items())),
        "security": _security(route),
        "x-tsubame-built": False if not missing else "unknown",
        "x-tsubame-service": route.owner,
    }
    if seed and seed.get("consumes"):
        op["requestBody"] = {
            "required": False,
            "content": {seed["consumes"]: {"schema": {"type": "object"}}},
        }
    return op


def merge(
    routes: Iterable[Route],
    docs: Mapping[str, ServiceDoc | None],
    seed: Mapping[tuple[str, str], dict[str, Any]],
) -> dict[str, Any]:
    """The public document: one operation per route of the table (see module doc)."""
    schemas = _Schemas()
    operations = _service_operations(docs, schemas)
    missing = sorted(ctx for ctx, doc in docs.items() if doc is None)

    by_shape: dict[str, list[Route]] = {}
    for route in routes:
        by_shape.setdefault(path_shape(openapi_path(route.template)), []).append(route)

    paths: dict[str, Any] = {}
    for shape, group in sorted(by_shape.items()):
        built = [operations[(r.method, shape)] for r in group if (r.method, shape) in operations]
        seeded = [r for r in group if (r.method, shape) in seed]
        # One spelling per shape: the service's, else the seed's, else tsuru's own.
        if built:
            path, params = built[0][1], built[0][3]
        else:
            path, params = openapi_path((seeded or group)[0].template), []
        item: dict[str, Any] = {}
        for route in sorted(group, key=lambda r: METHODS.index(r.method.lower())):
            key = (route.method, shape)
            if route.owner == "gateway":
                op = dict(GATEWAY_OPERATIONS[(route.method, route.template)])
                op["security"] = _security(route)
            elif key in operations:
                op = _built(route, operations[key], seed.get(key))
            else:
                op = _not_built(route, seed.get(key), route.owner in missing)
            item[route.method.lower()] = op
        item["parameters"] = _path_parameters(path, params)
        if not item["parameters"]:
            del item["parameters"]
        paths[path] = item

    keep = reachable_schemas(paths, schemas.schemas)
    described = (
        "tsuru 1.11's API as Tsubame serves it. Every path is also served under a "
        "version prefix (`/1.0/apps`). Errors are plain text. Operations marked "
        "`x-tsubame-built: false` answer 501 until their context is built."
    )
    if missing:
        described += (
            f" Missing service documents (service down): {', '.join(missing)}; "
            "their routes are listed from tsuru's reference."
        )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Tsubame (tsuru 1.11 API)",
            "version": VERSION,
            "description": described,
        },
        "x-tsubame-missing-services": missing,
        "paths": paths,
        "components": {
            "schemas": {k: v for k, v in sorted(schemas.schemas.items()) if k in keep},
            "securitySchemes": {
                "tsuru": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A tsuru token: `Authorization: bearer <token>`.",
                }
            },
        },
    }


class ServiceDocuments:
    """Fetches ``/internal/openapi.json`` from every service, with a signed identity."""

    def __init__(self, upstreams: Mapping[str, Upstream], secret: bytes) -> None:
        self._upstreams = upstreams
        self._secret = secret

    def fetch(self) -> dict[str, ServiceDoc | None]:
        # The identity is bound to the request's method and path (shared/identity.py).
        header = sign(internal_identity("gateway"), self._secret, method="GET", path=DOCUMENT_PATH)
        return {ctx: self._one(ctx, up, header) for ctx, up in self._upstreams.items()}

    def _one(self, ctx: str, upstream: Upstream, header: str) -> ServiceDoc | None:
        try:
            resp = upstream.send(
                "GET", DOCUMENT_PATH, {"X-Tsubame-Identity": header}, RequestBody(None)
            )
        except UpstreamError as exc:
            log.warning("no OpenAPI document from %s: %r", ctx, exc)
            return None
        try:
            if resp.length is not None and resp.length > MAX_DOCUMENT:
                log.warning("OpenAPI document of %s too large (%s bytes)", ctx, resp.length)
                return None
            data = resp.read()
        except OSError as exc:
            log.warning("OpenAPI document of %s cut short: %r", ctx, exc)
            return None
        finally:
            resp.release()
        if resp.status != 200:
            log.warning("OpenAPI document of %s: status %s", ctx, resp.status)
            return None
        try:
            doc = json.loads(data)
        except ValueError:
            log.warning("OpenAPI document of %s is not JSON", ctx)
            return None
        return doc if isinstance(doc, dict) else None


class PublicDocument:
    """The merged document as bytes, rebuilt when older than ``ttl`` seconds (sooner,
    ``retry`` seconds, while a service's document is missing)."""

    def __init__(
        self,
        routes: Iterable[Route],
        fetch: Fetch,
        *,
        seed: Mapping[tuple[str, str], dict[str, Any]] | None = None,
        ttl: float = 10.0,
        retry: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._routes = tuple(routes)
        self._fetch = fetch
        self._seed = seed if seed is not None else load_seed()
        self._ttl = ttl
        self._retry = retry
        self._clock = clock
        self._lock = threading.Lock()
        self._body = b""
        self._expires = -1.0

    def body(self) -> bytes:
        with self._lock:
            if self._clock() < self._expires:
                return self._body
        docs = self._fetch()
        merged = merge(self._routes, docs, self._seed)
        body = (json.dumps(merged, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        ttl = self._retry if merged["x-tsubame-missing-services"] else self._ttl
        with self._lock:
            self._body, self._expires = body, self._clock() + ttl
        return body
