"""Teams and their members, the signed-in user's roles, team tokens."""

from __future__ import annotations

from typing import Any

from services.web.domain.session import Session
from services.web.operations.calls import fetch, fetch_list, optional_list, send
from services.web.operations.deps import Deps, api_path


def teams(deps: Deps, session: Session) -> list[Any]:
    return sorted(fetch_list(deps, session, "/teams"), key=lambda t: str(t.get("name", "")))


def create_team(deps: Deps, session: Session, name: str) -> None:
    send(deps, session, "POST", "/teams", form={"name": name})


def team_page(deps: Deps, session: Session, team: str) -> dict[str, Any]:
    info = fetch(deps, session, api_path("/teams/{}", team)) or {}
    roles = [r for r in optional_list(deps, session, "/roles") if r.get("context") == "team"]
    return {"team": info, "roles": roles}


def add_member(deps: Deps, session: Session, team: str, email: str, role: str) -> None:
    """A member is a user holding a team-context role in this team (tsuru 1.11)."""
    path = api_path("/roles/{}/user", role)
    send(deps, session, "POST", path, form={"email": email, "context": team})


def remove_member(deps: Deps, session: Session, team: str, email: str, role: str) -> None:
    path = api_path("/roles/{}/user/{}", role, email)
    send(deps, session, "DELETE", path, query={"context": team})


def remove_team(deps: Deps, session: Session, team: str) -> None:
    send(deps, session, "DELETE", api_path("/teams/{}", team))


def account(deps: Deps, session: Session) -> Any:
    return fetch(deps, session, "/users/info") or {}


def tokens(deps: Deps, session: Session) -> dict[str, Any]:
    return {
        "tokens": fetch_list(deps, session, "/tokens"),
        "teams": optional_list(deps, session, "/teams"),
    }


def create_token(deps: Deps, session: Session, form: dict[str, str]) -> Any:
    fields = {k: form[k] for k in ("team", "description", "expires_in", "token_id") if form.get(k)}
    return send(deps, session, "POST", "/tokens", form=fields)


def remove_token(deps: Deps, session: Session, token_id: str) -> None:
    send(deps, session, "DELETE", api_path("/tokens/{}", token_id))
