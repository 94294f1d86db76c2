"""Roles, their permissions and default roles (auth.md §3.25, §3.26, §3.30, §3.31)."""

from __future__ import annotations

from typing import Any

from services.auth.domain import errors
from services.auth.domain.grants import role_schemes
from services.auth.domain.models import ROLE_EVENTS, Role, RoleInstance
from services.auth.operations.access import announce_all
from services.auth.operations.ports import Deps
from shared.errors import Forbidden, Invalid
from shared.events import Allowed, Target
from shared.identity import Identity
from shared.permissions import CONTEXT_TYPES, check, ensure, normalize, sorted_nodes, tree

ROLE_EVENTS_ALLOWED = Allowed("role.read.events")
_ROLE_READERS = (
    "role.update",
    "role.update.assign",
    "role.update.dissociate",
    "role.create",
    "role.delete",
)


def role_json(role: Role) -> dict:
    out: dict[str, Any] = {
        "name": role.name,
        "context": role.context,
        "Description": role.description,
    }
    names = [s or "*" for s in role_schemes(role)]
    if names:
        out["scheme_names"] = sorted(names)
    if role.events:
        out["events"] = list(role.events)
    return out


def _record(
    deps: Deps,
    identity: Identity,
    kind: str,
    name: str,
    fields: Any,
    allowed: Allowed = ROLE_EVENTS_ALLOWED,
):  # type: ignore[no-untyped-def]
    return deps.recorder.record(
        target=Target("role", name), kind=kind, owner=identity, allowed=allowed, custom_data=fields
    )


def _existing(deps: Deps, name: str) -> Role:
    role = deps.repos.roles.get(name)
    if role is None:
        raise errors.RoleNotFound()
    return role


def _ensure_any(identity: Identity, names: tuple[str, ...]) -> None:
    if not any(check(identity.grants, n) for n in names):
        raise Forbidden()


def create_role(
    deps: Deps, identity: Identity, name: str, context: str, description: str, fields: Any
) -> None:
    ensure(identity.grants, "role.create")
    if not name:
        raise errors.InvalidRoleName()
    with _record(deps, identity, "role.create", name, fields):
        if context not in CONTEXT_TYPES:
            raise errors.InvalidContextType(context)
        name = name.strip()
        if not name:
            raise errors.InvalidRoleName()
        deps.repos.roles.add(Role(name, context, description))


def list_roles(deps: Deps, identity: Identity) -> list[dict]:
    _ensure_any(identity, _ROLE_READERS)
    return [role_json(r) for r in deps.repos.roles.all()]


def role_info(deps: Deps, identity: Identity, name: str) -> dict:
    _ensure_any(identity, _ROLE_READERS)
    return role_json(_existing(deps, name))


def delete_role(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    ensure(identity.grants, "role.delete")
    with _record(deps, identity, "role.delete", name, fields):
        if deps.repos.users.with_role(name):
            raise errors.RoleHasUsers()
        if not deps.repos.roles.delete(name):
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
            ensure(identity.grants, perm)
    with _record(deps, identity, "role.update", name, fields, Allowed("role.update")):
        role = deps.repos.roles.get(name)
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
            deps.repos.roles.update(name, context=ctx, description=desc)
        else:
            _rename(deps, role, new_name, ctx, desc)
    announce_all(deps)


def _rename(deps: Deps, role: Role, new_name: str, ctx: str, desc: str) -> None:
    try:
        deps.repos.roles.add(Role(new_name, ctx, desc, list(role.schemes), list(role.events)))
    except errors.RoleExists:
        raise Invalid(errors.RoleExists.message) from None
    # tsuru 1.11 re-assigns the new role with the context *type* as value; we keep each
    # holder's value (docs/compatibility.md).
    for user in deps.repos.users.with_role(role.name):
        for inst in user.roles:
            if inst.name == role.name:
                deps.repos.users.add_role(user.email, RoleInstance(new_name, inst.value))
    deps.repos.roles.delete(role.name)
    deps.repos.users.remove_role_everywhere(role.name)


def add_permissions(
    deps: Deps, identity: Identity, name: str, permissions: list[str], fields: Any
) -> None:
    ensure(identity.grants, "role.update.permission.add")
    with _record(deps, identity, "role.update.permission.add", name, fields):
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
        deps.repos.roles.add_schemes(name, permissions)
    announce_all(deps)


def remove_permission(
    deps: Deps, identity: Identity, name: str, permission: str, fields: Any
) -> None:
    ensure(identity.grants, "role.update.permission.remove")
    with _record(deps, identity, "role.update.permission.remove", name, fields):
        _existing(deps, name)
        deps.repos.roles.remove_scheme(name, permission)
    announce_all(deps)


def list_permissions(identity: Identity) -> list[dict]:
    ensure(identity.grants, "role.update")
    return [{"Name": n.name, "Contexts": list(n.contexts)} for n in sorted_nodes()]


# --- default roles -----------------------------------------------------------------


def list_default_roles(deps: Deps, identity: Identity) -> list[dict]:
    _ensure_any(identity, ("role.default.create", "role.default.delete"))
    return [role_json(r) for r in deps.repos.roles.all() if r.events]


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
    ensure(identity.grants, "role.default.create")
    for name, events in _by_role(wanted).items():
        with _record(deps, identity, "role.default.create", name, fields):
            role = deps.repos.roles.get(name)
            if role is None:
                raise errors.RoleNotFoundInvalid()
            for event in events:
                expected = ROLE_EVENTS[event]
                if role.context != expected:
                    raise errors.WrongRoleEventContext(expected, role.context)
                deps.repos.roles.add_event(name, event)


def remove_default_roles(
    deps: Deps, identity: Identity, wanted: dict[str, list[str]], fields: Any
) -> None:
    ensure(identity.grants, "role.default.delete")
    for name, events in _by_role(wanted).items():
        with _record(deps, identity, "role.default.delete", name, fields):
            if deps.repos.roles.get(name) is None:
                raise errors.RoleNotFoundInvalid()
            for event in events:
                deps.repos.roles.remove_event(name, event)
