"""The dashboard's script and style sheet, from this repository (no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import Response

from services.web.api.security import PREFIX
from shared.errors import NotFound
from shared.http import Blueprint, public
from shared.http.declare import _Body, declare_output

bp = Blueprint("web_assets", __name__, url_prefix=PREFIX)

STATIC = Path(__file__).resolve().parent.parent / "static"
TYPES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
ASSET = _Body("ASSET", {t: {"schema": {"type": "string"}} for t in sorted(set(TYPES.values()))})
_CACHE: dict[str, bytes] = {}


def _read(name: str) -> bytes:
    if name not in _CACHE:
        _CACHE[name] = (STATIC / name).read_bytes()
    return _CACHE[name]


@bp.route("/static/<name>", methods=["GET"])
@declare_output(200, ASSET, description="The dashboard's script or style sheet")
@declare_output(404, description="No such asset")
@public
def asset(name: str) -> Response:
    if name not in TYPES:  # only the files listed: no path ever reaches the disk
        raise NotFound("no such asset")
    resp = Response(_read(name), mimetype=TYPES[name])
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp
