"""OpenAPI operations of the routes the gateway answers itself (gateway/local.py).

Keyed by the route table's (method, template); a test checks every gateway-owned row
of ``routes.txt`` has one.
"""

from __future__ import annotations

from typing import Any

_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_HTML = {"text/html": {"schema": {"type": "string"}}}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": ["gateway"],
        "responses": responses,
        "x-tsubame-built": True,
        "x-tsubame-service": "gateway",
        **extra,
    }


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": _TEXT}


_UNAUTHORIZED = _text("Unauthorized")
_HEALTH = _op(
    "healthcheck",
    {
        "200": _text("WORKING, or each checked service's state"),
        "500": _text("A checked service failed"),
    },
    parameters=[
        {
            "in": "query",
            "name": "check",
            "description": "services to check (`all`, `auth`, `apps` ...); none: nothing",
            "schema": {"type": "array", "items": {"type": "string"}},
            "style": "form",
            "explode": True,
        }
    ],
)
_PROFILER = _op(
    "Go profiler endpoint (tsuru); Tsubame has none",
    {
        "401": _UNAUTHORIZED,
        "403": _text("Needs the global debug permission"),
        "404": _text("No Go profiler in Tsubame"),
    },
)

GATEWAY_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/"): _op("index", {"200": {"description": "Welcome page", "content": _HTML}}),
    ("GET", "/healthcheck"): _HEALTH,
    ("GET", "/healthcheck/"): _HEALTH,
    ("GET", "/info"): _op(
        "API info",
        {
            "200": {
                "description": "The API version",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"version": {"type": "string"}},
                            "required": ["version"],
                            "additionalProperties": False,
                        }
                    }
                },
            },
            "401": _UNAUTHORIZED,
        },
    ),
    ("GET", "/metrics"): _op(
        "Prometheus metrics", {"200": _text("Prometheus text exposition format")}
    ),
    ("GET", "/debug/goroutines"): _op(
        "stack dump of the gateway worker",
        {
            "200": _text("Every greenlet and thread stack"),
            "401": _UNAUTHORIZED,
            "403": _text("Needs the global debug permission"),
        },
    ),
    **{
        ("GET", path): _PROFILER
        for path in (
            "/debug/fgprof",
            "/debug/pprof/",
            "/debug/pprof/block",
            "/debug/pprof/cmdline",
            "/debug/pprof/goroutine",
            "/debug/pprof/heap",
            "/debug/pprof/profile",
            "/debug/pprof/symbol",
            "/debug/pprof/threadcreate",
            "/debug/pprof/trace",
        )
    },
    ("GET", "/openapi.json"): _op(
        "this OpenAPI document (every service's, merged)",
        {
            "200": {
                "description": "OpenAPI 3 document",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    ),
    ("GET", "/docs"): _op(
        "interactive page of this document (Swagger UI, served locally)",
        {"200": {"description": "HTML page", "content": _HTML}},
    ),
    ("GET", "/docs/{asset}"): _op(
        "a static asset of the documentation page",
        {
            "200": {
                "description": "The asset",
                "content": {
                    "text/css": {"schema": {"type": "string"}},
                    "application/javascript": {"schema": {"type": "string"}},
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "404": _text("No such asset"),
        },
    ),
}
