"""Pages, redirects and live operation pages, and how errors are shown."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask, Response, g, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from services.web.api.deps import deps
from services.web.api.security import (
    PREFIX,
    clear_session_cookie,
    current_session,
    login_csrf,
    secure_headers,
    session_id,
    set_flash,
    set_login_cookie,
    take_flash,
)
from services.web.domain.errors import ApiError, SignInRequired
from services.web.domain.streams import Piece
from services.web.operations import signin
from shared.errors import TsubameError

log = logging.getLogger("tsubame.web")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
OUTPUT_MARK = "<!--output-->"
SESSION_ENDED = "Your session has ended: sign in again."


def url(path: str = "", **query: str) -> str:
    """A dashboard address: ``url("/apps/", name)`` -> ``/ui/apps/<escaped>``."""
    out = PREFIX + path
    filled = {k: v for k, v in query.items() if v}
    return out + ("?" + urlencode(filled) if filled else "")


def seg(value: str) -> str:
    return quote(value, safe="")


def page(template: str, status: int = 200, **context: Any) -> Response:
    session = current_session()
    body = render_template(
        template,
        session=session,
        csrf=session.csrf if session else "",
        login_csrf=login_csrf() if session is None else "",
        notice=take_flash(),
        errors=context.pop("errors", {}),
        **context,
    )
    resp = Response(body, status=status, mimetype="text/html")
    if session is None:
        set_login_cookie(resp)
    return resp


def go(path: str, notice: str = "") -> Response:
    """303 to a dashboard page (a form's answer), with a one-time notice."""
    resp = Response("", status=303, headers={"Location": path})
    if notice:
        set_flash(resp, notice)
    return resp


def live(
    title: str,
    back: str,
    operation: AbstractContextManager[Iterator[Piece]],
    pieces: Iterator[Piece],
) -> Response:
    """A page that shows an operation's output as it comes and ends with its outcome.

    ``pieces`` come from ``operation`` already entered (so the API's refusal was
    shown next to the form instead); the page streams, each chunk escaped.
    """
    session = current_session()
    head, _, tail = render_template(
        "live.html",
        title=title,
        back=back,
        session=session,
        csrf=session.csrf if session else "",
        notice="",
        errors={},
    ).partition(OUTPUT_MARK)

    def body() -> Iterator[str]:
        yield head
        outcome = Piece(done=True, error="the operation's output ended unexpectedly")
        try:
            for piece in pieces:
                if piece.done:
                    outcome = piece
                    break
                if piece.text:
                    yield str(escape(piece.text))
        except TsubameError as exc:
            outcome = Piece(done=True, error=exc.message)
        if outcome.error:
            yield (
                '</pre><p id="outcome" class="outcome failed" data-outcome="failed">'
                f"Failed: {escape(outcome.error)}</p>"
            )
        else:
            yield '</pre><p id="outcome" class="outcome ok" data-outcome="ok">Done.</p>'
        yield tail.replace("</pre>", "", 1)

    resp = Response(body(), mimetype="text/html")
    # Closes the API's answer when the page ends, or when the browser goes away.
    resp.call_on_close(lambda: operation.__exit__(None, None, None))
    # Seen as it comes: no buffering proxy should hold it.
    resp.headers["X-Accel-Buffering"] = "no"
    return resp


def install(app: Flask) -> None:
    """Templates, security headers and the dashboard's way of showing errors."""
    from jinja2 import FileSystemLoader

    app.jinja_loader = FileSystemLoader(str(TEMPLATES))
    app.jinja_env.globals.update(url=url, seg=seg)
    app.after_request(secure_headers)
    app.register_error_handler(SignInRequired, _sign_in_required)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(TsubameError, _error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _wants_fragment() -> bool:
    return request.headers.get("X-Requested-With") == "dashboard"


def _sign_in_required(exc: SignInRequired) -> Response:
    if _wants_fragment() or request.path.startswith("/internal/"):
        return Response(exc.message + "\n", status=401, mimetype="text/plain")
    target = request.full_path.rstrip("?") if request.method == "GET" else ""
    return go(url("/login", next=target if target.startswith(PREFIX + "/") else ""))


def _api_error(exc: ApiError) -> Response:
    if exc.status == 401 and session_id():
        # The API no longer takes this session's token (expired, revoked).
        signin.forget(deps(), session_id())
        g.session = None
        resp = go(url("/login"), SESSION_ENDED)
        clear_session_cookie(resp)
        return resp
    return _error(exc)


def _error(exc: TsubameError) -> Response:
    if request.path.startswith("/internal/"):
        return Response(exc.message + "\n", status=exc.status, mimetype="text/plain")
    if _wants_fragment():
        return Response(exc.message + "\n", status=exc.status, mimetype="text/plain")
    return page("error.html", exc.status, code=exc.status, message=exc.message)


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    message = {404: "There is no such page.", 405: "This page does not take that request."}.get(
        code, exc.description or exc.name
    )
    if code == 413:
        message = "The file is too large for this server."
    if request.path.startswith("/internal/"):
        return Response(str(message) + "\n", status=code, mimetype="text/plain")
    return page("error.html", code, code=code, message=message)


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    message = "Something went wrong in the dashboard; the error was logged."
    return page("error.html", 500, code=500, message=message)
