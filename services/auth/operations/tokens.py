"""Team tokens (auth.md §3.20-§3.24).

Values are stored as sha256 only, so a value is shown in clear when it is created or
regenerated and as ``""`` afterwards (docs/compatibility.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.auth.domain import errors, rules
from services.auth.domain.models import ZERO_TIME, TeamToken
from services.auth.domain.secrets import new_token, token_hash
from services.auth.operations.access import caller_user
from services.auth.operations.ports import Deps
from services.auth.operations.teams import team_allowed
from shared.bus import keys
from shared.events import Target
from shared.golang.times import rfc3339nano
from shared.identity import Identity
from shared.permissions import contexts_for, ensure, team_for


def token_json(token: TeamToken, value: str = "") -> dict:
    out: dict[str, Any] = {
        "token": value,
        "token_id": token.token_id,
        "description": token.description,
        "created_at": rfc3339nano(token.created_at),
        "expires_at": rfc3339nano(token.expires_at),
        "last_access": rfc3339nano(token.last_access),
        "creator_email": token.creator_email,
        "team": token.team,
    }
    if token.roles:
        out["roles"] = [{"Name": r.name, "ContextValue": r.value} for r in token.roles]
    return out


def _existing(deps: Deps, token_id: str) -> TeamToken:
    token = deps.repos.tokens.get(token_id)
    if token is None:
        raise errors.TeamTokenNotFound()
    return token


def list_tokens(deps: Deps, identity: Identity) -> list[dict]:
    ctxs = contexts_for(identity.grants, "team.token.read")
    if not ctxs:
        # tsuru 1.11 lists every token here (empty filter); we list none.
        return []
    if any(t == "global" for t, _ in ctxs):
        tokens = deps.repos.tokens.all()
    else:
        tokens = deps.repos.tokens.all(sorted({v for t, v in ctxs if t == "team"}))
    return [token_json(t) for t in tokens]


def token_info(deps: Deps, identity: Identity, token_id: str) -> dict:
    token = _existing(deps, token_id)
    ensure(identity.grants, "team.token.read", [("team", token.team)])
    return token_json(token)


def _only_team(deps: Deps) -> str | None:
    names = deps.repos.teams.names(limit=2)
    return names[0] if len(names) == 1 else None


def create_token(
    deps: Deps,
    identity: Identity,
    *,
    token_id: str,
    description: str,
    expires_in: int,
    team: str,
    fields: Any,
) -> dict:
    if not team:
        team = team_for(identity.grants, "team.token.create", lambda: _only_team(deps))
    ensure(identity.grants, "team.token.create", [("team", team)])
    with deps.recorder.record(
        target=Target("team", team),
        kind="team.token.create",
        owner=identity,
        allowed=team_allowed(team),
        custom_data=fields,
    ):
        user = caller_user(deps, identity)
        if deps.repos.teams.get(team) is None:
            # tsuru 1.11 answers 500 here; the seed's wording and a client mistake: 404.
            raise errors.TeamNotFound()
        value = new_token()
        now = deps.clock()
        token = TeamToken(
            token_id=rules.validate_token_id(token_id or f"{team}-{value[:5]}"),
            token_hash=token_hash(value),
            team=team,
            creator_email=user.email,
            created_at=now,
            description=description,
            expires_at=now + timedelta(seconds=expires_in) if expires_in else ZERO_TIME,
        )
        deps.repos.tokens.add(token)
    return token_json(token, value)


def update_token(
    deps: Deps,
    identity: Identity,
    token_id: str,
    *,
    regenerate: bool,
    description: str,
    expires_in: int,
    fields: Any,
) -> dict:
    token = _existing(deps, token_id)
    ensure(identity.grants, "team.token.update", [("team", token.team)])
    value = ""
    with deps.recorder.record(
        target=Target("team", token.team),
        kind="team.token.update",
        owner=identity,
        allowed=team_allowed(token.team),
        custom_data=fields,
    ):
        expires_at = None
        if expires_in > 0:
            expires_at = deps.clock() + timedelta(seconds=expires_in)
        elif expires_in < 0:
            expires_at = ZERO_TIME
        new_hash = None
        if regenerate:
            value = new_token()
            new_hash = token_hash(value)
        deps.repos.tokens.update(
            token_id,
            description=description or None,
            expires_at=expires_at,
            token_hash=new_hash,
        )
    if regenerate or expires_at is not None:
        deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": token.token_hash})
    return token_json(_existing(deps, token_id), value)


def delete_token(deps: Deps, identity: Identity, token_id: str, fields: Any) -> None:
    token = _existing(deps, token_id)
    ensure(identity.grants, "team.token.delete", [("team", token.team)])
    with deps.recorder.record(
        target=Target("team", token.team),
        kind="team.token.delete",
        owner=identity,
        allowed=team_allowed(token.team),
        custom_data=fields,
    ):
        if not deps.repos.tokens.delete(token_id):
            raise errors.TeamTokenNotFound()
    deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": token.token_hash})
