"""Checks every request passes before any view runs (installed by ``make_app``).

* the body limit of the route (shared/limits.py): ordinary views take
  ``max_body_size``, views marked ``@upload`` take ``max_upload_size``; Flask
  answers 413 as soon as the body is read past it;
* the path, the query and a urlencoded form body must be valid UTF-8 once
  percent-decoded (shared/http/safety.py): 400 otherwise, before anything is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

from shared.errors import Invalid
from shared.http.auth import wsgi_path
from shared.http.safety import MALFORMED_TEXT, valid_urlencoded, valid_utf8

F = TypeVar("F", bound=Callable[..., Any])

_BODY_METHODS = ("POST", "PUT", "PATCH")


def upload(view: F) -> F:
    """Mark a view that receives an archive (deploy, build, platform): large bodies,
    which werkzeug spools to disk while parsing."""
    view._tsubame_upload = True  # type: ignore[attr-defined]
    return view


def check_request() -> None:
    settings = current_app.config["TSUBAME_SETTINGS"]
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_tsubame_upload", False):
        request.max_content_length = settings.max_upload_size
    environ = request.environ
    if not valid_utf8(wsgi_path(environ)) or not valid_urlencoded(environ.get("QUERY_STRING", "")):
        raise Invalid(MALFORMED_TEXT)
    if (
        request.method in _BODY_METHODS
        and request.mimetype == "application/x-www-form-urlencoded"
        and not valid_urlencoded(request.get_data(cache=True))
    ):
        raise Invalid(MALFORMED_TEXT)
