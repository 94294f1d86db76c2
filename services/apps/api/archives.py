"""``GET /internal/archives/<id>``: an uploaded deploy archive, for the provisioner's
worker (docs/runtime.md "Deploy details"). Any apps instance serves it: the spool
is in the data directory they share."""

from __future__ import annotations

from flask import Response, send_file

from services.apps.api.deps import deps
from shared.errors import NotFound
from shared.http import Blueprint, internal

bp = Blueprint("archives", __name__)

ARCHIVE = {"application/gzip": {"schema": {"type": "string", "format": "binary"}}}


class ArchiveNotFound(NotFound):
    message = "archive not found"


@bp.route("/internal/archives/<archive_id>", methods=["GET"])
@bp.output(200, description="the archive (tar.gz) as uploaded")
@bp.errors({404: "No such archive (the deploy ended, or a malformed id)"})
@internal
def archive(archive_id: str) -> Response:
    path = deps().archives.path(archive_id)
    if path is None:
        raise ArchiveNotFound()
    return send_file(path, mimetype="application/gzip", conditional=False, etag=False)
