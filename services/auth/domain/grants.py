"""Effective permissions and the permission-based rules of this context
(permissions.md §4-§7, auth.md §3.9, §3.15, §3.27)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.auth.domain import errors
from services.auth.domain.models import Role, RoleInstance, User
from shared.identity import Grant
from shared.permissions import check, is_registered, normalize, registration_order

Roles = Mapping[str, Role]


def role_schemes(role: Role) -> list[str]:
    """The role's registered permission names, sorted, as tree keys ("" = root)."""
    return sorted({normalize(s) for s in role.schemes if is_registered(s)})


def expand(instances: Iterable[RoleInstance], roles: Roles) -> list[Grant]:
    """Grants of role instances; instances of missing roles and unknown names are skipped."""
    out: list[Grant] = []
    for inst in instances:
        role = roles.get(inst.name)
        if role is None:
            continue
        out.extend(Grant(s, role.context, inst.value) for s in role_schemes(role))
    return out


def user_grants(user: User, roles: Roles, group_roles: Iterable[RoleInstance]) -> list[Grant]:
    """Implicit ``user`` grant on oneself, own roles, then roles of the user's groups."""
    return [
        Grant("user", "user", user.email),
        *expand(user.roles, roles),
        *expand(group_roles, roles),
    ]


def missing_for_role(grants: Iterable[Grant], role: Role, value: str) -> str | None:
    """The first permission of ``role`` the caller does not hold in (context, value)."""
    grants = list(grants)
    for scheme in role_schemes(role):
        if not check(grants, scheme, [(role.context, value)]):
            return scheme
    return None


def ensure_can_use_role(grants: Iterable[Grant], role: Role, value: str) -> None:
    missing = missing_for_role(grants, role, value)
    if missing is not None:
        # tsuru's Permission.String(): "<type>", plus " <value>" when there is one.
        ctx = f"{role.context} {value}" if value else role.context
        raise errors.CannotUseRole(missing, ctx)


# --- user JSON (auth.md §3.10) -------------------------------------------------


@dataclass(frozen=True)
class ShownRole:
    role: Role
    value: str
    group: str = ""


def user_roles(
    user: User, roles: Roles, groups: Mapping[str, list[RoleInstance]]
) -> list[ShownRole]:
    """Own role instances first, then those of the user's groups; missing roles skipped."""
    out: list[ShownRole] = []
    for inst in user.roles:
        if inst.name in roles:
            out.append(ShownRole(roles[inst.name], inst.value))
    for group in user.groups:
        for inst in groups.get(group, []):
            if inst.name in roles:
                out.append(ShownRole(roles[inst.name], inst.value, group))
    return out


@dataclass(frozen=True)
class UserView:
    """A user as one caller sees it: the role instances that caller may see."""

    user: User
    roles: list[ShownRole]


def visible_roles(caller: Iterable[Grant], shown: list[ShownRole], admin: bool) -> list[ShownRole]:
    """Role instances a caller may see: it must hold every permission of the role
    in the instance's context; a non-admin does not see permission-less roles."""
    caller = list(caller)
    out = []
    for sr in shown:
        if not admin and not role_schemes(sr.role):
            continue
        if missing_for_role(caller, sr.role, sr.value) is None:
            out.append(sr)
    return out


# --- GET /teams walk (auth.md §3.15) -----------------------------------------


def team_permissions(grants: Iterable[Grant], team: str) -> list[str]:
    """First held node of each team-context subtree, in registration order."""
    grants = list(grants)
    held: list[str] = []
    last = None
    for node in registration_order():
        if "team" not in node.contexts:
            continue
        if last is not None and node.name.startswith(last + "."):
            continue
        if check(grants, node.name, [("team", team)]):
            held.append(node.name)
            last = node.name
    return held
