"""Who the caller is, in the terms of this context."""

from __future__ import annotations

from services.auth.domain import errors
from services.auth.domain.grants import user_grants
from services.auth.domain.models import User
from services.auth.operations.deps import Deps
from shared.bus import keys
from shared.identity import Grant, Identity


def caller_user(deps: Deps, identity: Identity) -> User:
    """The user behind a session token or API key (team tokens have none)."""
    if identity.kind != "user":
        raise errors.NotAUserToken()
    user = deps.stores.users.get(identity.name)
    if user is None:
        raise errors.UserNotFound()
    return user


def grants_of_user(deps: Deps, user: User) -> list[Grant]:
    groups = deps.stores.groups.roles_of(user.groups)
    group_roles = [inst for g in user.groups for inst in groups.get(g, [])]
    names = [i.name for i in user.roles] + [i.name for i in group_roles]
    roles = deps.stores.roles.get_many(names)
    return user_grants(user, roles, group_roles)


def announce_user(deps: Deps, email: str) -> None:
    deps.publisher.publish(keys.IDENTITY_CHANGED, {"email": email})


def announce_all(deps: Deps) -> None:
    deps.publisher.publish(keys.IDENTITY_CHANGED, {})
