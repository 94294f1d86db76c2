"""Teams and members, the user's roles, team tokens."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from services.web.api.deps import deps
from services.web.api.pages import change, field, form, page
from services.web.api.render import page as render
from services.web.api.render import seg, url
from services.web.api.security import PREFIX, signed_in
from services.web.domain.errors import ApiError
from services.web.domain.session import Session
from services.web.operations import people as ops
from shared.http import HTML, Blueprint

bp = Blueprint("web_people", __name__, url_prefix=PREFIX)


def team_url(team: str) -> str:
    return url("/teams/" + seg(team))


def show_team(
    session: Session, team: str, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    data = ops.team_page(deps(), session, team)
    return render("team.html", status, name=team, errors=errors or {}, **data)


def refused_on_team(session: Session, team: str, key: str) -> Callable[[ApiError], Response]:
    """The team page again, the API's message by the form ``key``."""

    def again(exc: ApiError) -> Response:
        return show_team(session, team, exc.status, {key: exc.message})

    return again


def show_tokens(
    session: Session, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    return render(
        "tokens.html", status, created=None, errors=errors or {}, **ops.tokens(deps(), session)
    )


@bp.route("/teams", methods=["GET"])
@page("The user's teams")
@signed_in
def teams(session: Session) -> Response:
    return render("teams.html", teams=ops.teams(deps(), session))


@bp.route("/teams", methods=["POST"])
@form("Team created: to its page")
@signed_in
def create_team(session: Session) -> Response:
    name = field("name", 256)

    def refused(exc: ApiError) -> Response:
        return render(
            "teams.html", exc.status, teams=ops.teams(deps(), session), errors={"team": exc.message}
        )

    return change(
        lambda: ops.create_team(deps(), session, name),
        refused,
        team_url(name),
        f"Team {name} created.",
    )


@bp.route("/teams/<team>", methods=["GET"])
@page("A team: its members and their roles, its apps and pools")
@signed_in
def team(session: Session, team: str) -> Response:
    return show_team(session, team)


@bp.route("/teams/<team>/members", methods=["POST"])
@form("Member added: back to the team")
@signed_in
def add_member(session: Session, team: str) -> Response:
    email, role = field("email", 256), field("role", 256)
    return change(
        lambda: ops.add_member(deps(), session, team, email, role),
        refused_on_team(session, team, "members"),
        team_url(team),
        f"{email} is now {role} in {team}.",
    )


@bp.route("/teams/<team>/members/remove", methods=["POST"])
@form("Member's role removed: back to the team")
@signed_in
def remove_member(session: Session, team: str) -> Response:
    email, role = field("email", 256), field("role", 256)
    return change(
        lambda: ops.remove_member(deps(), session, team, email, role),
        refused_on_team(session, team, "members"),
        team_url(team),
        f"{email} is no longer {role} in {team}.",
    )


@bp.route("/teams/<team>/remove", methods=["POST"])
@form("Team removed: to the teams")
@signed_in
def remove_team(session: Session, team: str) -> Response:
    return change(
        lambda: ops.remove_team(deps(), session, team),
        refused_on_team(session, team, "remove"),
        url("/teams"),
        f"Team {team} removed.",
    )


@bp.route("/account", methods=["GET"])
@page("The signed-in user's roles and permissions")
@signed_in
def account(session: Session) -> Response:
    return render(
        "account.html", info=ops.account(deps(), session), public_url=deps().config.public_url
    )


@bp.route("/tokens", methods=["GET"])
@page("Team tokens the user may see")
@signed_in
def tokens(session: Session) -> Response:
    return show_tokens(session)


@bp.route("/tokens", methods=["POST"])
@form("Token created: its value shown once")
@bp.output(200, HTML, description="The new token's value, shown this once")
@signed_in
def create_token(session: Session) -> Response:
    values = {k: field(k, 256) for k in ("team", "description", "expires_in")}
    try:
        created = ops.create_token(deps(), session, values)
    except ApiError as exc:
        if exc.status == 401:
            raise
        return show_tokens(session, exc.status, {"token": exc.message})
    # Shown on this answer only (never stored by the dashboard, never in a URL).
    return render("tokens.html", created=created, **ops.tokens(deps(), session))


@bp.route("/tokens/<token_id>/remove", methods=["POST"])
@form("Token removed: back to the tokens")
@signed_in
def remove_token(session: Session, token_id: str) -> Response:

    def refused(exc: ApiError) -> Response:
        return show_tokens(session, exc.status, {"token": exc.message})

    return change(
        lambda: ops.remove_token(deps(), session, token_id),
        refused,
        url("/tokens"),
        f"Token {token_id} removed.",
    )
