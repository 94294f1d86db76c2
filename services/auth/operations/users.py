"""Users: registration, listing, info, removal, quota (auth.md §3.1, §3.9-§3.13)."""

from __future__ import annotations

from typing import Any

from services.auth.domain import errors, rules
from services.auth.domain.grants import user_json, user_roles, visible_roles
from services.auth.domain.models import Quota, RoleInstance, User
from services.auth.operations.access import announce_user, caller_user
from services.auth.operations.ports import Deps
from services.auth.operations.sessions import hash_password
from shared.bus import keys
from shared.errors import NotFound
from shared.events import Allowed, Target
from shared.identity import Identity
from shared.permissions import check, ensure


def user_allowed(email: str) -> Allowed:
    return Allowed("user.read.events", (("user", email),))


def lookup(deps: Deps, email: str) -> User:
    """tsuru's user lookup where every failure is a 404 with the lookup's message."""
    if not rules.EMAIL_RE.match(email):
        raise NotFound(errors.InvalidEmail.message)
    user = deps.repos.users.get(email)
    if user is None:
        raise errors.UserNotFound()
    return user


def existing_user(deps: Deps, email: str) -> User:
    """Lookup where an invalid email is a 400 and a missing user a 404."""
    rules.validate_email(email)
    user = deps.repos.users.get(email)
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
            or not check(identity.grants, "user.create")
        ):
            raise errors.RegistrationDisabled()
    with deps.recorder.record(
        target=Target("user", email),
        kind="user.create",
        owner=("user", email),
        allowed=user_allowed(email),
        custom_data=fields,
    ):
        rules.validate_email(email)
        rules.validate_password(password)
        if deps.repos.users.get(email) is not None:
            raise errors.EmailTaken()
        defaults = [RoleInstance(r.name, "") for r in deps.repos.roles.with_event("user-create")]
        deps.repos.users.add(
            User(
                email=email,
                password=hash_password(deps, password),
                quota=Quota(limit=deps.config.user_quota),
                roles=defaults,
            )
        )


def remove_user(deps: Deps, identity: Identity, email: str, fields: Any) -> None:
    email = email or identity.name
    ensure(identity.grants, "user.delete", [("user", email)])
    with deps.recorder.record(
        target=Target("user", email),
        kind="user.delete",
        owner=identity,
        allowed=user_allowed(email),
        custom_data=fields,
    ):
        lookup(deps, email)
        for h in deps.repos.sessions.delete_for(email):
            deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": h})
        deps.repos.users.delete(email)
    announce_user(deps, email)


def _views(deps: Deps, users: list[User]) -> tuple[dict, dict]:
    roles = {r.name: r for r in deps.repos.roles.all()}
    group_names = sorted({g for u in users for g in u.groups})
    return roles, deps.repos.groups.roles_of(group_names)


def user_info(deps: Deps, identity: Identity) -> dict:
    user = caller_user(deps, identity)
    roles, groups = _views(deps, [user])
    return user_json(user, user_roles(user, roles, groups))


def list_users(
    deps: Deps, identity: Identity, user_email: str, role: str, context: str
) -> list[dict]:
    admin = check(identity.grants, "user.update")
    users = deps.repos.users.all()
    roles, groups = _views(deps, users)
    out: list[dict] = []
    for user in users:
        shown = visible_roles(identity.grants, user_roles(user, roles, groups), admin)
        if not admin and not any(sr.role.context != "global" for sr in shown):
            continue
        if not user_email and not role:
            out.append(user_json(user, shown))
            continue
        if user_email and user.email == user_email:
            out.append(user_json(user, shown))
        if role and any(
            sr.role.name == role and (not context or sr.value == context) for sr in shown
        ):
            out.append(user_json(user, shown))
    if not out:
        if context:
            raise errors.WrongContext()
        # Only now does tsuru need the caller's user (a team token fails here).
        me = caller_user(deps, identity)
        out.append(user_json(me, user_roles(me, roles, groups)))
    return out


def user_quota(deps: Deps, identity: Identity, email: str) -> Quota:
    ensure(identity.grants, "user.read.quota", [("user", email)])
    return existing_user(deps, email).quota


def change_user_quota(
    deps: Deps, identity: Identity, email: str, raw_limit: str, fields: Any
) -> None:
    ensure(identity.grants, "user.update.quota")
    user = existing_user(deps, email)
    with deps.recorder.record(
        target=Target("user", email),
        kind="user.update.quota",
        owner=identity,
        allowed=user_allowed(email),
        custom_data=fields,
    ):
        limit = rules.new_quota_limit(raw_limit, user.quota.inuse)
        deps.repos.users.set_quota_limit(email, limit)
