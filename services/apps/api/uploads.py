"""Receiving deploy archives: multipart file parts go straight to the archive spool.

``SpoolingRequest`` is the apps service's request class (installed when the deploy
blueprint is registered): werkzeug hands each file part of a multipart body to the
stream it returns, a file in the spool's ``.incoming`` folder, so an archive of up to
``TSUBAME_MAX_UPLOAD_SIZE`` is written to disk as it arrives and never held in memory.
"""

from __future__ import annotations

from typing import IO, Any

from bson import ObjectId
from flask import Flask, Request, request

from services.apps.api.deps import deps
from services.apps.domain.deploy_errors import NoUploadedFile


class SpoolingRequest(Request):
    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return deps().archives.receive()


def install(app: Flask) -> None:
    """Make the service's requests spool their file parts."""
    app.request_class = SpoolingRequest


def multipart() -> bool:
    # tsuru: the Content-Type header starts with "multipart/".
    return request.headers.get("Content-Type", "").startswith("multipart/")


def uploaded_file() -> Any:
    """The ``file`` part of a multipart body (400 ``http: no such file`` without it)."""
    part = request.files.get("file")
    if part is None:
        raise NoUploadedFile()
    return part


def keep_upload(part: Any) -> tuple[str, int]:
    """Keep the received ``file`` part under a fresh id: (id, size in bytes)."""
    archive_id = str(ObjectId())
    size = deps().archives.keep(part.stream, archive_id)
    return archive_id, size
