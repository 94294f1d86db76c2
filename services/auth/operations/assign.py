"""Assigning roles to users, team tokens and groups (auth.md §3.27-§3.29)."""

from __future__ import annotations

from typing import Any

from services.auth.domain import errors, rules
from services.auth.domain.grants import ensure_can_use_role
from services.auth.domain.models import Role, RoleInstance
from services.auth.operations.access import announce_all, announce_user
from services.auth.operations.deps import Deps
from shared.bus import keys
from shared.events import Target
from shared.identity import Identity
from shared.mutation import mutation

ASSIGN, DISSOCIATE = "role.update.assign", "role.update.dissociate"


def _usable_role(deps: Deps, identity: Identity, name: str, value: str) -> Role:
    role = deps.stores.roles.get(name)
    if role is None:
        raise errors.RoleNotFound()
    ensure_can_use_role(identity.grants, role, value)
    return role


def _assignable(deps: Deps, role: Role, value: str) -> None:
    """A new assignment names an existing team, or at least a plausible name (the
    contexts of other services are checked for shape only)."""
    rules.validate_context_value(value)
    if role.context == "team" and deps.stores.teams.get(value) is None:
        # tsuru 1.11 assigns roles on teams that do not exist.
        raise errors.TeamNotFound()


def _user(deps: Deps, email: str) -> None:
    rules.validate_email(email)
    if deps.stores.users.get(email) is None:
        # tsuru 1.11 answers 500 here; a client mistake: 404.
        raise errors.UserNotFound()


def assign_to_user(
    deps: Deps, identity: Identity, name: str, email: str, value: str, fields: Any
) -> None:
    with mutation(deps, identity, ASSIGN, target=Target("role", name), custom_data=fields):
        _user(deps, email)
        _assignable(deps, _usable_role(deps, identity, name, value), value)
        deps.stores.users.add_role(email, RoleInstance(name, value))
    announce_user(deps, email)


def dissociate_from_user(
    deps: Deps, identity: Identity, name: str, email: str, value: str, fields: Any
) -> None:
    with mutation(deps, identity, DISSOCIATE, target=Target("role", name), custom_data=fields):
        _user(deps, email)
        _usable_role(deps, identity, name, value)
        deps.stores.users.remove_role(email, RoleInstance(name, value))
    announce_user(deps, email)


def assign_to_token(
    deps: Deps, identity: Identity, name: str, token_id: str, value: str, fields: Any
) -> None:
    with mutation(deps, identity, ASSIGN, target=Target("role", name), custom_data=fields):
        _assignable(deps, _usable_role(deps, identity, name, value), value)
        if not deps.stores.tokens.add_role(token_id, RoleInstance(name, value)):
            raise errors.TeamTokenNotFoundEmpty()
    deps.publisher.publish(keys.IDENTITY_CHANGED, {"token_id": token_id})


def dissociate_from_token(
    deps: Deps, identity: Identity, name: str, token_id: str, value: str, fields: Any
) -> None:
    with mutation(deps, identity, DISSOCIATE, target=Target("role", name), custom_data=fields):
        _usable_role(deps, identity, name, value)
        if not deps.stores.tokens.remove_role(token_id, RoleInstance(name, value)):
            raise errors.TeamTokenNotFoundEmpty()
    deps.publisher.publish(keys.IDENTITY_CHANGED, {"token_id": token_id})


def assign_to_group(
    deps: Deps, identity: Identity, name: str, group: str, value: str, fields: Any
) -> None:
    with mutation(deps, identity, ASSIGN, target=Target("role", name), custom_data=fields):
        _assignable(deps, _usable_role(deps, identity, name, value), value)
        if not group:
            raise errors.GroupNameEmpty()
        deps.stores.groups.add_role(group, RoleInstance(name, value))
    announce_all(deps)


def dissociate_from_group(
    deps: Deps, identity: Identity, name: str, group: str, value: str, fields: Any
) -> None:
    with mutation(deps, identity, DISSOCIATE, target=Target("role", name), custom_data=fields):
        _usable_role(deps, identity, name, value)
        deps.stores.groups.remove_role(group, RoleInstance(name, value))
    announce_all(deps)
