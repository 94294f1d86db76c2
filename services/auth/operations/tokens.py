"""Team tokens (auth.md §3.20-§3.24).

Values are stored as sha256 only, so a value is shown in clear when it is created or
regenerated and as ``""`` afterwards (docs/compatibility.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from services.auth.domain import errors, rules
from services.auth.domain.models import ZERO_TIME, TeamToken
from services.auth.domain.secrets import new_token, token_hash
from services.auth.operations.access import caller_user
from services.auth.operations.deps import Deps
from shared.bus import keys
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize, mutation
from shared.permissions import ensure, scope, team_for


@dataclass(frozen=True)
class Issued:
    """A token with its value in clear: shown once, when created or regenerated."""

    token: TeamToken
    value: str = ""


def _existing(deps: Deps, token_id: str) -> TeamToken:
    token = deps.stores.tokens.get(token_id)
    if token is None:
        raise errors.TeamTokenNotFound()
    return token


def list_tokens(deps: Deps, identity: Identity) -> list[TeamToken]:
    ctxs = scope(identity, "team.token.read")
    if not ctxs:
        # tsuru 1.11 lists every token here (empty filter); we list none.
        return []
    if any(t == "global" for t, _ in ctxs):
        tokens = deps.stores.tokens.all()
    else:
        tokens = deps.stores.tokens.all(sorted({v for t, v in ctxs if t == "team"}))
    return tokens


def token_info(deps: Deps, identity: Identity, token_id: str) -> TeamToken:
    token = _existing(deps, token_id)
    ensure(identity, "team.token.read", [("team", token.team)])
    return token


def _only_team(deps: Deps) -> str | None:
    names = deps.stores.teams.names(limit=2)
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
) -> Issued:
    if not team:
        team = team_for(identity, "team.token.create", lambda: _only_team(deps))
    with mutation(
        deps,
        identity,
        "team.token.create",
        target=Target("team", team),
        contexts=[("team", team)],
        custom_data=fields,
    ):
        user = caller_user(deps, identity)
        if deps.stores.teams.get(team) is None:
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
        deps.stores.tokens.add(token)
    return Issued(token, value)


def update_token(
    deps: Deps,
    identity: Identity,
    token_id: str,
    *,
    regenerate: bool,
    description: str,
    expires_in: int,
    fields: Any,
) -> Issued:
    token = _existing(deps, token_id)
    permit = authorize(identity, "team.token.update", [("team", token.team)])
    value = ""
    with permit.record(deps.recorder, target=Target("team", token.team), custom_data=fields):
        expires_at = None
        if expires_in > 0:
            expires_at = deps.clock() + timedelta(seconds=expires_in)
        elif expires_in < 0:
            expires_at = ZERO_TIME
        new_hash = None
        if regenerate:
            value = new_token()
            new_hash = token_hash(value)
        deps.stores.tokens.update(
            token_id,
            description=description or None,
            expires_at=expires_at,
            token_hash=new_hash,
        )
    if regenerate or expires_at is not None:
        deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": token.token_hash})
    return Issued(_existing(deps, token_id), value)


def delete_token(deps: Deps, identity: Identity, token_id: str, fields: Any) -> None:
    token = _existing(deps, token_id)
    permit = authorize(identity, "team.token.delete", [("team", token.team)])
    with permit.record(deps.recorder, target=Target("team", token.team), custom_data=fields):
        if not deps.stores.tokens.delete(token_id):
            raise errors.TeamTokenNotFound()
    deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": token.token_hash})
