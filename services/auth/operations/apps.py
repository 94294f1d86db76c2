"""What the apps context asks of auth (docs/runtime.md): app tokens and the app quota
of users and teams."""

from __future__ import annotations

from services.auth.domain import errors
from services.auth.domain.models import APP_TOKEN_PERMISSIONS, AppToken
from services.auth.domain.secrets import apikey_from_seed, new_apikey_seed, token_hash
from services.auth.operations.deps import Deps
from shared.bus import keys
from shared.identity import Grant, Identity


def _value(deps: Deps, token: AppToken) -> str:
    return apikey_from_seed(deps.config.apptoken_key, token.seed)


def issue_app_token(deps: Deps, app: str) -> str:
    """The app's token, made on the first ask and the same afterwards (every apps
    instance, every restart): only its hash and seed are stored."""
    seed = new_apikey_seed()
    candidate = AppToken(app, "", seed)
    candidate.token_hash = token_hash(_value(deps, candidate))
    return _value(deps, deps.stores.app_tokens.ensure(candidate))


def revoke_app_token(deps: Deps, app: str) -> None:
    gone = deps.stores.app_tokens.delete(app)
    if gone is not None:
        deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": gone.token_hash})


def app_grants(app: str) -> tuple[Grant, ...]:
    return tuple(Grant(p, "app", app) for p in APP_TOKEN_PERMISSIONS)


def app_identity(deps: Deps, raw_hash: str) -> Identity | None:
    token = deps.stores.app_tokens.by_hash(raw_hash)
    if token is None:
        return None
    return Identity(
        kind="app",
        name=token.app,
        token_kind="app",
        grants=app_grants(token.app),
        token_hash=raw_hash,
    )


def reserve_app(deps: Deps, user: str, team: str) -> None:
    """One app more for its creating user and its team owner, each within its quota
    (403 ``Quota exceeded``); a refused team gives the user's back."""
    if user and deps.stores.users.reserve_app(user) == "exceeded":
        raise errors.QuotaExceeded()
    if team and deps.stores.teams.reserve_app(team) == "exceeded":
        if user:
            deps.stores.users.release_app(user)
        raise errors.QuotaExceeded()


def release_app(deps: Deps, user: str, team: str) -> None:
    if user:
        deps.stores.users.release_app(user)
    if team:
        deps.stores.teams.release_app(team)
