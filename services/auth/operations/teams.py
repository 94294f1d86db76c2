"""Teams (auth.md §3.14-§3.19)."""

from __future__ import annotations

from typing import Any

from services.auth.domain import errors, rules
from services.auth.domain.grants import team_permissions, user_json, user_roles, visible_roles
from services.auth.domain.models import Quota, RoleInstance, Team
from services.auth.operations.access import announce_all, announce_user, caller_user
from services.auth.operations.ports import Deps
from shared.bus import keys
from shared.events import Allowed, Target
from shared.identity import Identity
from shared.permissions import check, ensure


def team_allowed(name: str) -> Allowed:
    return Allowed("team.read.events", (("team", name),))


def _existing(deps: Deps, name: str) -> Team:
    team = deps.repos.teams.get(name)
    if team is None:
        raise errors.TeamNotFound()
    return team


def _add_team(deps: Deps, email: str, name: str, tags: list[str]) -> str:
    name = rules.validate_team_name(name)
    deps.repos.teams.add(
        Team(name, email, rules.clean_tags(tags), Quota(limit=deps.config.team_quota))
    )
    defaults = deps.repos.roles.with_event("team-create")
    for role in defaults:
        deps.repos.users.add_role(email, RoleInstance(role.name, name))
    if defaults:
        announce_user(deps, email)
    return name


def create_team(deps: Deps, identity: Identity, name: str, tags: list[str], fields: Any) -> None:
    ensure(identity.grants, "team.create")
    with deps.recorder.record(
        target=Target("team", name),
        kind="team.create",
        owner=identity,
        allowed=team_allowed(name),
        custom_data=fields,
    ):
        user = caller_user(deps, identity)
        _add_team(deps, user.email, name, tags)


def list_teams(deps: Deps, identity: Identity) -> list[dict]:
    out = []
    for team in deps.repos.teams.all():
        perms = team_permissions(identity.grants, team.name)
        if perms:
            out.append({"name": team.name, "tags": team.tags or None, "permissions": perms})
    return out


def team_info(deps: Deps, identity: Identity, name: str) -> dict:
    team = _existing(deps, name)
    # tsuru 1.11 checks team.read without contexts: only a global grant passes.
    ensure(identity.grants, "team.read")
    users: list[dict] = []
    if check(identity.grants, "team"):
        roles = {r.name: r for r in deps.repos.roles.all()}
        for user in deps.repos.users.all():
            if not any(
                inst.name in roles
                and (
                    roles[inst.name].context == "global"
                    or (roles[inst.name].context == "team" and inst.value == name)
                )
                for inst in user.roles
            ):
                continue
            groups = deps.repos.groups.roles_of(user.groups)
            shown = visible_roles(identity.grants, user_roles(user, roles, groups), True)
            users.append(user_json(user, shown))
    # Pools and apps belong to contexts that answer for themselves: none known here.
    return {"name": team.name, "tags": team.tags or None, "users": users, "pools": None, "apps": []}


def update_team(
    deps: Deps, identity: Identity, name: str, newname: str, tags: list[str], fields: Any
) -> None:
    ensure(identity.grants, "team.update", [("team", name)])
    _existing(deps, name)
    with deps.recorder.record(
        target=Target("team", name),
        kind="team.update",
        owner=identity,
        allowed=team_allowed(name),
        custom_data=fields,
    ):
        if not newname:
            deps.repos.teams.set_tags(name, rules.clean_tags(tags))
            return
        user = caller_user(deps, identity)
        # Renaming would have to rewrite the team in apps, services and pools; until
        # those contexts take part, a team they still reference keeps its name.
        _ensure_unused(deps, name)
        _add_team(deps, user.email, newname, tags)
        deps.repos.teams.delete(name)
        deps.publisher.publish(keys.TEAM_REMOVED, {"team": name})


def _ensure_unused(deps: Deps, name: str) -> None:
    apps = deps.team_usage.apps(name)
    if apps:
        raise errors.TeamInUse("Apps", apps)
    instances = deps.team_usage.service_instances(name)
    if instances:
        raise errors.TeamInUse("Service instances", instances)


def remove_team(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    if not check(identity.grants, "team.delete", [("team", name)]):
        # tsuru 1.11 disguises the denial as not found.
        raise errors.TeamRemovalNotFound(name)
    with deps.recorder.record(
        target=Target("team", name),
        kind="team.delete",
        owner=identity,
        allowed=team_allowed(name),
        custom_data=fields,
    ):
        _ensure_unused(deps, name)
        if not deps.repos.teams.delete(name):
            raise errors.TeamRemovalNotFound(name)
    deps.publisher.publish(keys.TEAM_REMOVED, {"team": name})
    announce_all(deps)


def team_quota(deps: Deps, identity: Identity, name: str) -> Quota:
    ensure(identity.grants, "team.read.quota", [("team", name)])
    return _existing(deps, name).quota


def change_team_quota(
    deps: Deps, identity: Identity, name: str, raw_limit: str, fields: Any
) -> None:
    ensure(identity.grants, "team.update.quota", [("team", name)])
    team = _existing(deps, name)
    with deps.recorder.record(
        target=Target("team", name),
        kind="team.update.quota",
        owner=identity,
        allowed=team_allowed(name),
        custom_data=fields,
    ):
        limit = rules.new_quota_limit(raw_limit, team.quota.inuse)
        deps.repos.teams.set_quota_limit(name, limit)


def team_names(deps: Deps) -> list[str]:
    return deps.repos.teams.names()
