"""Teams (auth.md §3.14-§3.19)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.auth.domain import errors, rules
from services.auth.domain.grants import UserView, team_permissions, user_roles, visible_roles
from services.auth.domain.models import Quota, RoleInstance, Team
from services.auth.operations.access import announce_all, announce_user, caller_user
from services.auth.operations.deps import Deps
from shared.bus import keys
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize, mutation
from shared.permissions import check, ensure


@dataclass(frozen=True)
class TeamView:
    """A team in GET /teams: the first held permission of each team subtree."""

    team: Team
    permissions: list[str]


@dataclass(frozen=True)
class TeamInfo:
    team: Team
    users: list[UserView]
    apps: list[dict[str, Any]] = field(default_factory=list)  # as the apps context shows them


def _existing(deps: Deps, name: str) -> Team:
    team = deps.stores.teams.get(name)
    if team is None:
        raise errors.TeamNotFound()
    return team


def _add_team(deps: Deps, email: str, name: str, tags: list[str]) -> str:
    name = rules.validate_team_name(name)
    deps.stores.teams.add(
        Team(name, email, rules.clean_tags(tags), Quota(limit=deps.config.team_quota))
    )
    defaults = deps.stores.roles.with_event("team-create")
    for role in defaults:
        deps.stores.users.add_role(email, RoleInstance(role.name, name))
    if defaults:
        announce_user(deps, email)
    return name


def create_team(deps: Deps, identity: Identity, name: str, tags: list[str], fields: Any) -> None:
    with mutation(
        deps,
        identity,
        "team.create",
        target=Target("team", name),
        visible_in=[("team", name)],
        custom_data=fields,
    ):
        user = caller_user(deps, identity)
        _add_team(deps, user.email, name, tags)


def list_teams(deps: Deps, identity: Identity) -> list[TeamView]:
    """Teams where the caller holds any team-context permission (no fixed one)."""
    out = []
    for team in deps.stores.teams.all():
        perms = team_permissions(identity.grants, team.name)
        if perms:
            out.append(TeamView(team, perms))
    return out


def team_info(deps: Deps, identity: Identity, name: str) -> TeamInfo:
    team = _existing(deps, name)
    # tsuru 1.11 checks team.read without contexts: only a global grant passes.
    ensure(identity, "team.read")
    users: list[UserView] = []
    # Which users are listed is a rule about data, not an authorization: a plain check.
    if check(identity.grants, "team"):
        roles = {r.name: r for r in deps.stores.roles.all()}
        for user in deps.stores.users.all():
            if not any(
                inst.name in roles
                and (
                    roles[inst.name].context == "global"
                    or (roles[inst.name].context == "team" and inst.value == name)
                )
                for inst in user.roles
            ):
                continue
            groups = deps.stores.groups.roles_of(user.groups)
            shown = visible_roles(identity.grants, user_roles(user, roles, groups), True)
            users.append(UserView(user, shown))
    return TeamInfo(team, users, deps.team_usage.owned_apps(name))


def update_team(
    deps: Deps, identity: Identity, name: str, newname: str, tags: list[str], fields: Any
) -> None:
    permit = authorize(identity, "team.update", [("team", name)])
    _existing(deps, name)
    with permit.record(deps.recorder, target=Target("team", name), custom_data=fields):
        if not newname:
            deps.stores.teams.set_tags(name, rules.clean_tags(tags))
            return
        user = caller_user(deps, identity)
        # Renaming would have to rewrite the team in apps, services and pools; until
        # those contexts take part, a team they still reference keeps its name.
        _ensure_unused(deps, name)
        _add_team(deps, user.email, newname, tags)
        deps.stores.teams.delete(name)
        deps.publisher.publish(keys.TEAM_REMOVED, {"team": name})


def _ensure_unused(deps: Deps, name: str) -> None:
    apps = deps.team_usage.apps(name)
    if apps:
        raise errors.TeamInUse("Apps", apps)
    instances = deps.team_usage.service_instances(name)
    if instances:
        raise errors.TeamInUse("Service instances", instances)


def remove_team(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    # tsuru 1.11 disguises the denial as not found.
    permit = authorize(
        identity, "team.delete", [("team", name)], denied=errors.TeamRemovalNotFound(name)
    )
    with permit.record(deps.recorder, target=Target("team", name), custom_data=fields):
        _ensure_unused(deps, name)
        if not deps.stores.teams.delete(name):
            raise errors.TeamRemovalNotFound(name)
    deps.publisher.publish(keys.TEAM_REMOVED, {"team": name})
    announce_all(deps)


def team_quota(deps: Deps, identity: Identity, name: str) -> Quota:
    ensure(identity, "team.read.quota", [("team", name)])
    return _existing(deps, name).quota


def change_team_quota(
    deps: Deps, identity: Identity, name: str, raw_limit: str, fields: Any
) -> None:
    permit = authorize(identity, "team.update.quota", [("team", name)])
    team = _existing(deps, name)
    with permit.record(deps.recorder, target=Target("team", name), custom_data=fields):
        limit = rules.new_quota_limit(raw_limit, team.quota.inuse)
        deps.stores.teams.set_quota_limit(name, limit)


def team_names(deps: Deps) -> list[str]:
    return deps.stores.teams.names()
