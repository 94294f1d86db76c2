"""Roles, their permissions and default roles (auth.md §3.25, §3.26, §3.30, §3.31)."""

from __future__ import annotations

from typing import Any

from services.auth.domain import errors
from services.auth.domain.models import ROLE_EVENTS, Role, RoleInstance
from services.auth.operations.access import announce_all
from services.auth.operations.deps import Deps
from shared.errors import Invalid
from shared.events import Allowed, Owner, Target
from shared.identity import Identity
from shared.mutation import Permit, authorize, mutation
from shared.permissions import (
    CONTEXT_TYPES,
    Node,
    ensure,
    ensure_any,
    normalize,
    sorted_nodes,
    tree,
)

# Who may read roles (tsuru's GET /roles lets any of these through).
ROLE_READERS = (
    "role.update",
    "role.update.assign",
    "role.update.dissociate",
    "role.create",
    "role.delete",
)


def _existing(deps: Deps, name: str) -> Role:
    role = deps.stores.roles.get(name)
    if role is None:
        raise errors.RoleNotFound()
    return role


def create_role(
    deps: Deps, identity: Identity, name: str, context: str, description: str, fields: Any
) -> None:
    permit = authorize(identity, "role.create")
    if not name:
        raise errors.InvalidRoleName()
    with permit.record(deps.recorder, target=Target("role", name), custom_data=fields):
        if context not in CONTEXT_TYPES:
            raise errors.InvalidContextType(context)
        name = name.strip()
        if not name:
            raise errors.InvalidRoleName()
        deps.stores.roles.add(Role(name, context, description))


def list_roles(deps: Deps, identity: Identity) -> list[Role]:
    ensure_any(identity, ROLE_READERS)
    return deps.stores.roles.all()


def role_info(deps: Deps, identity: Identity, name: str) -> Role:
    ensure_any(identity, ROLE_READERS)
    return _existing(deps, name)


def delete_role(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    with mutation(deps, identity, "role.delete", target=Target("role", name), custom_data=fields):
        if deps.stores.users.with_role(name):
            raise errors.RoleHasUsers()
        if not deps.stores.roles.delete(name):
            raise errors.RoleNotFound()
    announce_all(deps)


def update_role(
    deps: Deps,
    identity: Identity,
    name: str,
    new_name: str,
    context: str,
    description: str,
    fields: Any,
) -> None:
    if not (new_name or context or description):
        raise errors.RoleUpdateNothing()
    for given, perm in (
        (new_name, "role.update.name"),
        (context, "role.update.context.type"),
        (description, "role.update.description"),
    ):
        if given:
            ensure(identity, perm)
    # The checks above are the parts of role.update; tsuru shows these events to
    # holders of role.update (not role.read.events).
    permit = Permit("role.update", Owner.of(identity))
    with permit.record(
        deps.recorder,
        target=Target("role", name),
        custom_data=fields,
        allowed=Allowed("role.update"),
    ):
        role = deps.stores.roles.get(name)
        if role is None:
            raise errors.RoleNotFoundInvalid()
        if context and context not in CONTEXT_TYPES:
            raise errors.InvalidContextType(context)
        ctx = context or role.context
        desc = description or role.description
        if new_name:
            # The new role is made as POST /roles makes one: trimmed, never blank.
            new_name = new_name.strip()
            if not new_name:
                raise errors.InvalidRoleName()
        if not new_name or new_name == name:
            deps.stores.roles.update(name, context=ctx, description=desc)
        else:
            _rename(deps, role, new_name, ctx, desc)
    announce_all(deps)


def _rename(deps: Deps, role: Role, new_name: str, ctx: str, desc: str) -> None:
    try:
        deps.stores.roles.add(Role(new_name, ctx, desc, list(role.schemes), list(role.events)))
    except errors.RoleExists:
        raise Invalid(errors.RoleExists.message) from None
    # tsuru 1.11 re-assigns the new role with the context *type* as value; we keep each
    # holder's value (docs/compatibility.md).
    for user in deps.stores.users.with_role(role.name):
        for inst in user.roles:
            if inst.name == role.name:
                deps.stores.users.add_role(user.email, RoleInstance(new_name, inst.value))
    deps.stores.roles.delete(role.name)
    deps.stores.users.remove_role_everywhere(role.name)


def add_permissions(
    deps: Deps, identity: Identity, name: str, permissions: list[str], fields: Any
) -> None:
    with mutation(
        deps,
        identity,
        "role.update.permission.add",
        target=Target("role", name),
        custom_data=fields,
    ):
        # tsuru 1.11 answers 500 here; the seed lists 404 for a missing role.
        role = _existing(deps, name)
        nodes = tree()
        for perm in permissions:
            if not perm:
                raise errors.InvalidPermissionName()
            node = nodes.get(normalize(perm))
            if node is None:
                raise errors.PermissionNotFound(perm)
            if role.context not in node.contexts:
                raise errors.PermissionNotAllowed(node.name, role.context)
        deps.stores.roles.add_schemes(name, permissions)
    announce_all(deps)


def remove_permission(
    deps: Deps, identity: Identity, name: str, permission: str, fields: Any
) -> None:
    with mutation(
        deps,
        identity,
        "role.update.permission.remove",
        target=Target("role", name),
        custom_data=fields,
    ):
        _existing(deps, name)
        deps.stores.roles.remove_scheme(name, permission)
    announce_all(deps)


def list_permissions(identity: Identity) -> list[Node]:
    ensure(identity, "role.update")
    return sorted_nodes()


# --- default roles -----------------------------------------------------------------


DEFAULT_ROLE_READERS = ("role.default.create", "role.default.delete")


def list_default_roles(deps: Deps, identity: Identity) -> list[Role]:
    ensure_any(identity, DEFAULT_ROLE_READERS)
    return [r for r in deps.stores.roles.all() if r.events]


def _by_role(wanted: dict[str, list[str]]) -> dict[str, list[str]]:
    """event -> roles  into  role -> events (each distinct role once)."""
    out: dict[str, list[str]] = {}
    for event, names in wanted.items():
        for name in names:
            out.setdefault(name, [])
            if event not in out[name]:
                out[name].append(event)
    return out


def add_default_roles(
    deps: Deps, identity: Identity, wanted: dict[str, list[str]], fields: Any
) -> None:
    permit = authorize(identity, "role.default.create")
    for name, events in _by_role(wanted).items():
        with permit.record(deps.recorder, target=Target("role", name), custom_data=fields):
            role = deps.stores.roles.get(name)
            if role is None:
                raise errors.RoleNotFoundInvalid()
            for event in events:
                expected = ROLE_EVENTS[event]
                if role.context != expected:
                    raise errors.WrongRoleEventContext(expected, role.context)
                deps.stores.roles.add_event(name, event)


def remove_default_roles(
    deps: Deps, identity: Identity, wanted: dict[str, list[str]], fields: Any
) -> None:
    permit = authorize(identity, "role.default.delete")
    for name, events in _by_role(wanted).items():
        with permit.record(deps.recorder, target=Target("role", name), custom_data=fields):
            if deps.stores.roles.get(name) is None:
                raise errors.RoleNotFoundInvalid()
            for event in events:
                deps.stores.roles.remove_event(name, event)
