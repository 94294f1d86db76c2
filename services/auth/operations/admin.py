"""The first administrator: role ``AllowAll`` (global, ``*``) and a user holding it
(auth.md §1.5 "Bootstrap of the first admin", permissions.md §7.8)."""

from __future__ import annotations

from services.auth.domain import errors, rules
from services.auth.domain.models import Role, RoleInstance, User
from services.auth.domain.secrets import new_password
from services.auth.operations.access import announce_user
from services.auth.operations.deps import Deps
from services.auth.operations.sessions import hash_password

ALLOW_ALL = "AllowAll"
ROOT_INSTANCE = RoleInstance(ALLOW_ALL, "")


def ensure_allow_all(deps: Deps) -> None:
    try:
        deps.stores.roles.add(Role(ALLOW_ALL, "global", "", ["*"]))
    except errors.RoleExists:
        deps.stores.roles.add_schemes(ALLOW_ALL, ["*"])


def ensure_admin(deps: Deps, email: str, password: str = "") -> str | None:
    """Create the admin unless some user already holds AllowAll.

    Idempotent and safe when several processes run it at once: the user's email is
    its ``_id``, so only one insert wins. Returns the password when this call
    created the user (the caller shows it once), else None.
    """
    ensure_allow_all(deps)
    if deps.stores.users.with_role(ALLOW_ALL):
        return None
    password = password or new_password(16)
    user = User(email=email, password=hash_password(deps, password), roles=[ROOT_INSTANCE])
    try:
        deps.stores.users.add(user)
    except errors.EmailTaken:
        # Someone else won the race, or the user exists: make sure it holds the role.
        deps.stores.users.add_role(email, ROOT_INSTANCE)
        return None
    return password


def create_root_user(deps: Deps, email: str, password: str) -> bool:
    """``tsurud root user create``; True when created, False when an existing user
    was given the role."""
    rules.validate_email(email)
    ensure_allow_all(deps)
    if deps.stores.users.get(email) is not None:
        deps.stores.users.add_role(email, ROOT_INSTANCE)
        announce_user(deps, email)
        return False
    rules.validate_password(password)
    deps.stores.users.add(
        User(email=email, password=hash_password(deps, password), roles=[ROOT_INSTANCE])
    )
    return True
