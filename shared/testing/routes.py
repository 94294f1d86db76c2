"""Route checks every service runs in its own tests (STYLE habit 8).

``undeclared_routes(app)`` lists the routes whose view declares neither a
permission (``@requires``), nor ``@public``, nor ``@internal``. A service's test
asserts the list is empty, so a new route cannot forget its permission.
"""

from __future__ import annotations

from flask import Flask

from shared import permissions


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
