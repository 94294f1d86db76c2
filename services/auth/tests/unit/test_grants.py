from __future__ import annotations

from services.auth.domain.grants import ensure_can_use_role, expand, team_permissions
from services.auth.domain.models import Role, RoleInstance
from shared.identity import Grant


def test_team_walk_examples():
    star = [Grant("")]
    assert team_permissions(star, "t") == [
        "app",
        "team",
        "service",
        "service-instance",
        "volume",
        "webhook",
    ]
    assert team_permissions([Grant("app.create", "team", "t1")], "t1") == ["app.create"]
    assert team_permissions([Grant("app.create", "team", "t1")], "t2") == []
    assert team_permissions([Grant("team.read.quota", "team", "t")], "t") == ["team.read.quota"]
    assert team_permissions([Grant("team.read", "global")], "any") == ["team.read"]


def test_expand_skips_missing_roles_and_unknown_names():
    roles = {"r": Role("r", "team", "", ["app.deploy", "nope.nope", "*"])}
    grants = expand([RoleInstance("r", "blue"), RoleInstance("gone", "x")], roles)
    assert grants == [Grant("", "team", "blue"), Grant("app.deploy", "team", "blue")]


def test_role_without_permissions_can_be_used_by_anyone():
    ensure_can_use_role([], Role("empty", "team"), "blue")
