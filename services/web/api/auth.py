"""Sign in and sign out."""

from __future__ import annotations

from flask import Response, request

from services.web.api.deps import deps
from services.web.api.pages import field, page
from services.web.api.render import go, url
from services.web.api.render import page as render
from services.web.api.security import (
    PREFIX,
    check_login_csrf,
    clear_session_cookie,
    current_session,
    session_id,
    set_session_cookie,
    signed_in,
)
from services.web.domain.errors import ApiError
from services.web.domain.session import Session
from services.web.operations import signin
from shared.http import HTML, Blueprint, no_event, public

bp = Blueprint("web_auth", __name__, url_prefix=PREFIX)


def _next(raw: str) -> str:
    """Only a dashboard page may be the place to go after signing in."""
    if raw.startswith(PREFIX + "/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return url("/apps")


@bp.route("", methods=["GET"])
@page("To the apps")
def root() -> Response:
    return go(url("/apps"))


@bp.route("/", methods=["GET"])
@page("To the apps")
def root_slash() -> Response:
    return go(url("/apps"))


@bp.route("/login", methods=["GET"])
@page("The sign-in form")
def login_form() -> Response:
    if current_session() is not None:
        return go(_next(request.args.get("next", "")))
    return render(
        "login.html",
        next=request.args.get("next", ""),
        email="",
        public_url=deps().config.public_url,
    )


@bp.route("/login", methods=["POST"])
@bp.output(303, description="Signed in: to the apps (or the page asked for)")
@bp.output(400, HTML, description="The API refused the sign-in (its message on the form)")
@bp.output(401, HTML, description="Wrong password (the API's message)")
@bp.output(403, HTML, description="The form did not come from the dashboard (CSRF)")
@bp.output(404, HTML, description="No such user (the API's message)")
@no_event("tsuru records no event for a login")
@public
def login() -> Response:
    check_login_csrf()
    email = field("email", 256)
    try:
        sid, _ = signin.sign_in(deps(), email, field("password", 256))
    except ApiError as exc:
        return render(
            "login.html",
            exc.status,
            errors={"login": exc.message},
            next=field("next"),
            email=email,
            public_url=deps().config.public_url,
        )
    resp = go(_next(field("next")))
    set_session_cookie(resp, sid)
    return resp


@bp.route("/logout", methods=["POST"])
@bp.output(303, description="Signed out: to the sign-in page")
@bp.output(403, HTML, description="The form did not come from the dashboard (CSRF)")
@no_event("tsuru records no event for a logout")
@public
@signed_in
def logout(session: Session) -> Response:
    signin.sign_out(deps(), session_id())
    resp = go(url("/login"), "You are signed out.")
    clear_session_cookie(resp)
    return resp
