"""The JSON shapes of the auth routes (auth.md), built from what operations return.

tsuru's casing is kept as it is on the wire: capitalised keys for users, roles and
permissions (Go structs without JSON tags), lower-case for teams and tokens.
"""

from __future__ import annotations

from typing import Any

from services.auth.domain.grants import UserView, role_schemes
from services.auth.domain.models import Quota, Role, TeamToken
from services.auth.operations.teams import TeamInfo, TeamView
from shared.golang.times import rfc3339nano
from shared.permissions import Node


def quota_json(quota: Quota) -> dict[str, int]:
    return {"limit": quota.limit, "inuse": quota.inuse}


def role_json(role: Role) -> dict[str, Any]:
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


def permission_json(node: Node) -> dict[str, Any]:
    return {"Name": node.name, "Contexts": list(node.contexts)}


def user_json(view: UserView) -> dict[str, Any]:
    roles_out: list[dict[str, str]] = []
    perms_out: list[dict[str, str]] = []
    for sr in view.roles:
        entry = {"Name": sr.role.name, "ContextType": sr.role.context, "ContextValue": sr.value}
        if sr.group:
            entry["Group"] = sr.group
        roles_out.append(entry)
        for scheme in role_schemes(sr.role):
            perm = {"Name": scheme, "ContextType": sr.role.context, "ContextValue": sr.value}
            if sr.group:
                perm["Group"] = sr.group
            perms_out.append(perm)
    return {
        "Email": view.user.email,
        "Roles": roles_out,
        "Permissions": perms_out or None,
        "Groups": list(view.user.groups) or None,
    }


def team_json(view: TeamView) -> dict[str, Any]:
    return {"name": view.team.name, "tags": view.team.tags or None, "permissions": view.permissions}


def team_info_json(info: TeamInfo) -> dict[str, Any]:
    # Pools belong to the provisioner, which answers for itself: none known here.
    return {
        "name": info.team.name,
        "tags": info.team.tags or None,
        "users": [user_json(u) for u in info.users],
        "pools": None,
        "apps": list(info.apps),
    }


def token_json(token: TeamToken, value: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "token": value,
        "token_id": token.token_id,
        "description": token.description,
        "created_at": rfc3339nano(token.created_at),
        "expires_at": rfc3339nano(token.expires_at),
        "last_access": rfc3339nano(token.last_access),
        "creator_email": token.creator_email,
        "team": token.team,
    }
    if token.roles:
        out["roles"] = [{"Name": r.name, "ContextValue": r.value} for r in token.roles]
    return out
