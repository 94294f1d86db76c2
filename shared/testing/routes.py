"""What each route of a service declares (STYLE habit 8), read from its view.

``declarations(app)`` maps ``"METHODS rule"`` to a ``Declaration``: the permissions
its operation checks (``@requires``), or why any token may call it
(``@authenticated``), or ``@public``, or ``@internal``; and why a mutating route
records no event (``@no_event``). tests/architecture walks every service with these.
``undocumented_routes(app)`` lists the routes that declare no response
(``Blueprint.output``/``errors``), so none is missing from the OpenAPI document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Flask

from shared import permissions
from shared.http.declare import DOC_ATTR
from shared.identity import IDENTITY_HEADER, internal_identity, sign

# Added by make_app itself, outside any blueprint: their wire contract is
# docs/contracts.md, not the public document.
_MAKE_APP_ROUTES = ("/internal/health", "/internal/openapi.json", "/internal/metrics")

PERMISSION, TOKEN, PUBLIC, INTERNAL = "permission", "token", "public", "internal"


@dataclass(frozen=True)
class Declaration:
    access: str  # PERMISSION | TOKEN | PUBLIC | INTERNAL | "" (undeclared)
    permissions: tuple[str, ...] = ()
    reason: str = ""  # why a TOKEN route checks no fixed permission
    no_event: str = ""  # why a mutating route records no event

    def __str__(self) -> str:
        return "|".join(self.permissions) if self.access == PERMISSION else self.access

    def covers(self, checked: str) -> bool:
        """True when a checked permission is a declared one or below it in the tree."""
        wanted = permissions.normalize(checked)
        return any(permissions.implies(permissions.normalize(d), wanted) for d in self.permissions)


def _declaration(view: object) -> Declaration:
    no_event = str(getattr(view, "_tsubame_no_event", ""))
    if getattr(view, "_tsubame_internal", False):
        return Declaration(INTERNAL, no_event=no_event)
    if getattr(view, "_tsubame_public", False):
        return Declaration(PUBLIC, no_event=no_event)
    reason = getattr(view, "_tsubame_authenticated", "")
    if reason:
        return Declaration(TOKEN, reason=str(reason), no_event=no_event)
    perms = tuple(getattr(view, "_tsubame_permission", ()))
    return Declaration(PERMISSION if perms else "", perms, no_event=no_event)


def declarations(app: Flask) -> dict[str, Declaration]:
    out: dict[str, Declaration] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/openapi"):
            continue
        methods = ",".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        out[f"{methods} {rule.rule}"] = _declaration(app.view_functions[rule.endpoint])
    return out


def route_declarations(app: Flask) -> dict[str, str]:
    """``"METHODS rule" -> "perm[|perm]" | "token" | "public" | "internal" | ""``."""
    return {key: str(decl) for key, decl in declarations(app).items()}


def undeclared_routes(app: Flask) -> list[str]:
    return sorted(k for k, d in declarations(app).items() if not d.access)


def unknown_permissions(app: Flask) -> list[str]:
    """Declared permissions that are not nodes of tsuru's tree (typos)."""
    return sorted(
        f"{key}: {perm}"
        for key, decl in declarations(app).items()
        for perm in decl.permissions
        if not permissions.is_registered(perm)
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
