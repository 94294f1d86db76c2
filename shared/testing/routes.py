"""Route checks every service runs in its own tests (STYLE habit 8).

``undeclared_routes(app)`` lists the routes whose view declares neither a
permission (``@requires``), nor ``@public``, nor ``@internal``. A service's test
asserts the list is empty, so a new route cannot forget its permission.
``undocumented_routes(app)`` lists the routes that declare no response
(``Blueprint.output``/``errors``), so none is missing from the OpenAPI document.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from shared import permissions
from shared.http.declare import DOC_ATTR
from shared.identity import IDENTITY_HEADER, internal_identity, sign

# Added by make_app itself, outside any blueprint: their wire contract is
# docs/contracts.md, not the public document.
_MAKE_APP_ROUTES = ("/internal/health", "/internal/openapi.json")


def route_declarations(app: Flask) -> dict[str, str]:
    """``"METHODS rule" -> declaration`` for every rule of ``app``."""
    out: dict[str, str] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/openapi"):
            continue
        view = app.view_functions[rule.endpoint]
        methods = ",".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        key = f"{methods} {rule.rule}"
        if getattr(view, "_tsubame_internal", False):
            out[key] = "internal"
        elif getattr(view, "_tsubame_public", False):
            out[key] = "public"
        else:
            out[key] = getattr(view, "_tsubame_permission", "")
    return out


def undeclared_routes(app: Flask) -> list[str]:
    return sorted(k for k, v in route_declarations(app).items() if not v)


def unknown_permissions(app: Flask) -> list[str]:
    """Declared permissions that are not nodes of tsuru's tree (typos)."""
    return sorted(
        f"{k}: {v}"
        for k, v in route_declarations(app).items()
        if v not in ("", "public", "internal") and not permissions.is_registered(v)
    )


def undocumented_routes(app: Flask) -> list[str]:
    """``"METHODS rule"`` of every route whose view declares no response."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule in _MAKE_APP_ROUTES:
            continue
        declared = getattr(app.view_functions[rule.endpoint], DOC_ATTR, None) or {}
        if not declared.get("responses"):
            methods = ",".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
            out.append(f"{methods} {rule.rule}")
    return sorted(out)


def service_document(app: Flask) -> dict[str, Any]:
    """The service's OpenAPI document as the gateway fetches it (a signed identity)."""
    settings = app.config["TSUBAME_SETTINGS"]
    path = "/internal/openapi.json"
    header = sign(internal_identity("gateway"), settings.identity_secret, method="GET", path=path)
    resp = app.test_client().get(path, headers={IDENTITY_HEADER: header})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return json.loads(resp.data)  # type: ignore[no-any-return]
