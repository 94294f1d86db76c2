"""Users: registration, listing, info, removal, quota (auth.md §3.1, §3.9-§3.13)."""

from __future__ import annotations

from typing import Any

from services.auth.domain import errors, rules
from services.auth.domain.grants import UserView, user_roles, visible_roles
from services.auth.domain.models import Quota, RoleInstance, User
from services.auth.operations.access import announce_user, caller_user
from services.auth.operations.deps import Deps
from services.auth.operations.sessions import hash_password
from shared.bus import keys
from shared.errors import NotFound
from shared.events import Owner, Target
from shared.identity import Identity
from shared.mutation import authorize, mutation, unchecked
from shared.permissions import allows, check, ensure


def lookup(deps: Deps, email: str) -> User:
    """tsuru's user lookup where every failure is a 404 with the lookup's message."""
    if not rules.EMAIL_RE.match(email):
        raise NotFound(errors.InvalidEmail.message)
    user = deps.stores.users.get(email)
    if user is None:
        raise errors.UserNotFound()
    return user


def existing_user(deps: Deps, email: str) -> User:
    """Lookup where an invalid email is a 400 and a missing user a 404."""
    rules.validate_email(email)
    user = deps.stores.users.get(email)
    if user is None:
        raise errors.UserNotFound()
    return user


def create_user(
    deps: Deps, identity: Identity | None, email: str, password: str, fields: Any
) -> None:
    if not deps.config.registration:
        # Only a session token (not an API key or team token) holding user.create.
        if (
            identity is None
            or identity.token_kind != "session"
            or not allows(identity, "user.create")
        ):
            raise errors.RegistrationDisabled()
    # The event is the new user's own, whoever created it (tsuru 1.11).
    with unchecked(Owner("user", email), "user.create").record(
        deps.recorder,
        target=Target("user", email),
        visible_in=[("user", email)],
        custom_data=fields,
    ):
        rules.validate_email(email)
        rules.validate_password(password)
        if deps.stores.users.get(email) is not None:
            raise errors.EmailTaken()
        defaults = [RoleInstance(r.name, "") for r in deps.stores.roles.with_event("user-create")]
        deps.stores.users.add(
            User(
                email=email,
                password=hash_password(deps, password),
                quota=Quota(limit=deps.config.user_quota),
                roles=defaults,
            )
        )


def remove_user(deps: Deps, identity: Identity, email: str, fields: Any) -> None:
    email = email or identity.name
    with mutation(
        deps,
        identity,
        "user.delete",
        target=Target("user", email),
        contexts=[("user", email)],
        custom_data=fields,
    ):
        lookup(deps, email)
        for h in deps.stores.sessions.delete_for(email):
            deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": h})
        deps.stores.users.delete(email)
    announce_user(deps, email)


def _views(deps: Deps, users: list[User]) -> tuple[dict, dict]:
    roles = {r.name: r for r in deps.stores.roles.all()}
    group_names = sorted({g for u in users for g in u.groups})
    return roles, deps.stores.groups.roles_of(group_names)


def user_info(deps: Deps, identity: Identity) -> UserView:
    user = caller_user(deps, identity)
    roles, groups = _views(deps, [user])
    return UserView(user, user_roles(user, roles, groups))


def list_users(
    deps: Deps, identity: Identity, user_email: str, role: str, context: str
) -> list[UserView]:
    """No permission is required (auth.md §3.9): what is shown depends on the caller's
    grants (``user.update`` holders see everyone)."""
    admin = check(identity.grants, "user.update")
    users = deps.stores.users.all()
    roles, groups = _views(deps, users)
    out: list[UserView] = []
    for user in users:
        shown = visible_roles(identity.grants, user_roles(user, roles, groups), admin)
        if not admin and not any(sr.role.context != "global" for sr in shown):
            continue
        if not user_email and not role:
            out.append(UserView(user, shown))
            continue
        if user_email and user.email == user_email:
            out.append(UserView(user, shown))
        if role and any(
            sr.role.name == role and (not context or sr.value == context) for sr in shown
        ):
            out.append(UserView(user, shown))
    if not out:
        if context:
            raise errors.WrongContext()
        # Only now does tsuru need the caller's user (a team token fails here).
        me = caller_user(deps, identity)
        out.append(UserView(me, user_roles(me, roles, groups)))
    return out


def user_quota(deps: Deps, identity: Identity, email: str) -> Quota:
    ensure(identity, "user.read.quota", [("user", email)])
    return existing_user(deps, email).quota


def change_user_quota(
    deps: Deps, identity: Identity, email: str, raw_limit: str, fields: Any
) -> None:
    # tsuru checks it globally (no user context): nobody raises their own quota.
    permit = authorize(identity, "user.update.quota")
    user = existing_user(deps, email)
    with permit.record(
        deps.recorder,
        target=Target("user", email),
        visible_in=[("user", email)],
        custom_data=fields,
    ):
        limit = rules.new_quota_limit(raw_limit, user.quota.inuse)
        deps.stores.users.set_quota_limit(email, limit)
