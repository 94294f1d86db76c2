"""Passwords and API keys (auth.md §3.4, §3.5, §3.7, §3.8)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.auth.domain import errors, rules
from services.auth.domain.models import ResetToken, User
from services.auth.domain.secrets import (
    apikey_from_seed,
    new_apikey_seed,
    new_password,
    new_token,
    token_hash,
)
from services.auth.operations.access import caller_user
from services.auth.operations.deps import Deps
from services.auth.operations.sessions import hash_password, password_matches
from services.auth.operations.users import existing_user, lookup
from shared.bus import keys
from shared.events import Owner, Target
from shared.identity import Identity
from shared.mutation import mutation, unchecked
from shared.permissions import ensure

RESET_VALIDITY = timedelta(hours=24)
RESET_MARGIN = timedelta(minutes=1)

RESET_SUBJECT = "[tsuru] Password reset process"
RESET_BODY = """Someone, hopefully you, requested to reset your password on tsuru.
Use the following token to finish the process:

{token}

Send it back with: POST /users/{email}/password?token=<token>
If you did not ask for this, just ignore this e-mail.
"""
RESET_DONE_SUBJECT = "[tsuru] Password successfully reset"
RESET_DONE_BODY = """Your password on tsuru was reset. Your new password is:

{password}

Please change it as soon as you log in (tsuru change-password).
"""


def change_password(deps: Deps, identity: Identity, old: str, new: str, confirm: str) -> None:
    # tsuru checks no permission: every user may change their own password.
    email = identity.name
    with unchecked(identity, "user.update.password").record(
        deps.recorder, target=Target("user", email), visible_in=[("user", email)]
    ):
        if not old or not new:
            raise errors.PasswordsRequired()
        if new != confirm:
            raise errors.PasswordMismatch()
        user = caller_user(deps, identity)
        if not rules.password_length_ok(old) or not password_matches(old, user.password):
            raise errors.CurrentPasswordMismatch()
        rules.validate_password(new)
        deps.stores.users.set_password(email, hash_password(deps, new))


def reset_password(deps: Deps, email: str, token: str, fields: Any) -> None:
    # A public route: whoever knows the email may start a reset (and needs the mailed
    # token to finish it); the event is owned by that user.
    with unchecked(Owner("user", email), "user.update.reset").record(
        deps.recorder,
        target=Target("user", email),
        visible_in=[("user", email)],
        custom_data=fields,
    ):
        user = existing_user(deps, email)
        if not token:
            raw = new_token()
            deps.stores.resets.add(ResetToken(token_hash(raw), email, deps.clock()))
            deps.mailer.send(email, RESET_SUBJECT, RESET_BODY.format(token=raw, email=email))
            return
        _confirm_reset(deps, user, token)


def _confirm_reset(deps: Deps, user: User, token: str) -> None:
    h = token_hash(token)
    stored = deps.stores.resets.get(h)
    now = deps.clock()
    if (
        stored is None
        or stored.used
        or stored.email != user.email
        or now - stored.created >= RESET_VALIDITY - RESET_MARGIN
        or not deps.stores.resets.use(h)
    ):
        raise errors.InvalidResetToken()
    password = new_password()
    deps.stores.users.set_password(user.email, hash_password(deps, password))
    deps.mailer.send(user.email, RESET_DONE_SUBJECT, RESET_DONE_BODY.format(password=password))


# --- API keys --------------------------------------------------------------------


def _new_key(deps: Deps, user: User) -> str:
    seed = new_apikey_seed()
    key = apikey_from_seed(deps.config.apikey_key, seed)
    deps.stores.users.set_apikey(user.email, token_hash(key), seed)
    if user.apikey_hash:
        deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": user.apikey_hash})
    return key


def show_apikey(deps: Deps, identity: Identity, email: str) -> str:
    """The user's key, created on first use (tsuru's GET mutates too; no event)."""
    me = caller_user(deps, identity)
    if email:
        # tsuru checks it without contexts: only a global grant shows another's key.
        ensure(identity, "user.update.token")
        user = lookup(deps, email)
    else:
        # Every user holds it on themselves (the implicit ``user`` grant).
        ensure(identity, "user.update.token", [("user", me.email)])
        user = me
    if user.apikey_seed:
        key = apikey_from_seed(deps.config.apikey_key, user.apikey_seed)
        if token_hash(key) == user.apikey_hash:
            return key
        # The secret it was derived with changed: the stored key can't be shown; replace it.
    return _new_key(deps, user)


def regenerate_apikey(deps: Deps, identity: Identity, email: str, fields: Any) -> str:
    email = email or identity.name
    with mutation(
        deps,
        identity,
        "user.update.token",
        target=Target("user", email),
        contexts=[("user", email)],
        custom_data=fields,
    ):
        return _new_key(deps, lookup(deps, email))
