"""The one contract suite every storage implementation passes (STYLE §5).

Subclass ``StorageContract`` and provide a ``repos`` fixture returning fresh, empty
``Repos``; see ``unit/test_storage_memory.py`` and ``integration/test_storage_mongo.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.auth.domain import errors
from services.auth.domain.models import (
    ZERO_TIME,
    ResetToken,
    Role,
    RoleInstance,
    Session,
    Team,
    TeamToken,
    User,
)
from services.auth.storage.ports import Repos

NOW = datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)


def a_user(email: str = "alice@example.com", **kw) -> User:  # type: ignore[no-untyped-def]
    return User(email=email, password=kw.pop("password", "hash"), **kw)


def a_token(token_id: str = "t1", **kw) -> TeamToken:  # type: ignore[no-untyped-def]
    fields = dict(
        token_hash=f"h-{token_id}", team="blue", creator_email="a@example.com", created_at=NOW
    )
    fields.update(kw)
    return TeamToken(token_id=token_id, **fields)  # type: ignore[arg-type]


class StorageContract:
    # --- users ---
    def test_user_roundtrip_and_duplicate(self, repos: Repos) -> None:
        repos.users.add(a_user(roles=[RoleInstance("r", "v")], groups=["g"]))
        got = repos.users.get("alice@example.com")
        assert got is not None
        assert got.roles == [RoleInstance("r", "v")] and got.groups == ["g"]
        assert got.quota.limit == -1 and got.quota.inuse == 0
        with pytest.raises(errors.EmailTaken):
            repos.users.add(a_user())
        assert repos.users.get("bob@example.com") is None

    def test_user_list_in_insertion_order(self, repos: Repos) -> None:
        for e in ("c@example.com", "a@example.com", "b@example.com"):
            repos.users.add(a_user(e))
        assert [u.email for u in repos.users.all()] == [
            "c@example.com", "a@example.com", "b@example.com",
        ]  # fmt: skip

    def test_user_roles_are_a_set(self, repos: Repos) -> None:
        repos.users.add(a_user())
        assert repos.users.add_role("alice@example.com", RoleInstance("r", "x"))
        assert repos.users.add_role("alice@example.com", RoleInstance("r", "x"))
        assert repos.users.add_role("alice@example.com", RoleInstance("r", "y"))
        assert not repos.users.add_role("nobody@example.com", RoleInstance("r", "x"))
        assert repos.users.get("alice@example.com").roles == [  # type: ignore[union-attr]
            RoleInstance("r", "x"), RoleInstance("r", "y"),
        ]  # fmt: skip
        assert [u.email for u in repos.users.with_role("r")] == ["alice@example.com"]
        repos.users.remove_role("alice@example.com", RoleInstance("r", "x"))
        assert repos.users.get("alice@example.com").roles == [RoleInstance("r", "y")]  # type: ignore[union-attr]
        repos.users.remove_role_everywhere("r")
        assert repos.users.get("alice@example.com").roles == []  # type: ignore[union-attr]
        assert repos.users.with_role("r") == []

    def test_user_password_apikey_quota_delete(self, repos: Repos) -> None:
        repos.users.add(a_user())
        assert repos.users.set_password("alice@example.com", "new")
        assert repos.users.set_apikey("alice@example.com", "khash", "seed")
        assert repos.users.set_quota_limit("alice@example.com", 4)
        got = repos.users.by_apikey("khash")
        assert got is not None and got.password == "new" and got.apikey_seed == "seed"
        assert got.quota.limit == 4
        assert repos.users.by_apikey("") is None
        assert repos.users.by_apikey("other") is None
        assert not repos.users.set_password("nobody@example.com", "x")
        assert repos.users.delete("alice@example.com")
        assert not repos.users.delete("alice@example.com")
        assert repos.users.get("alice@example.com") is None

    # --- sessions and reset tokens ---
    def test_sessions(self, repos: Repos) -> None:
        s = Session("h1", "alice@example.com", NOW, NOW + timedelta(days=7))
        repos.sessions.add(s)
        repos.sessions.add(Session("h2", "alice@example.com", NOW, NOW))
        repos.sessions.add(Session("h3", "bob@example.com", NOW, NOW))
        assert repos.sessions.get("h1") == s
        assert repos.sessions.delete("h1") and not repos.sessions.delete("h1")
        assert repos.sessions.delete_for("alice@example.com") == ["h2"]
        assert repos.sessions.get("h2") is None and repos.sessions.get("h3") is not None

    def test_reset_token_used_once(self, repos: Repos) -> None:
        repos.resets.add(ResetToken("r1", "alice@example.com", NOW))
        assert repos.resets.get("r1") == ResetToken("r1", "alice@example.com", NOW, False)
        assert repos.resets.use("r1")
        assert not repos.resets.use("r1")
        assert repos.resets.get("r1").used  # type: ignore[union-attr]
        assert not repos.resets.use("missing")

    # --- teams ---
    def test_teams(self, repos: Repos) -> None:
        repos.teams.add(Team("blue", "a@example.com", ["x"]))
        repos.teams.add(Team("red"))
        with pytest.raises(errors.TeamExists):
            repos.teams.add(Team("blue"))
        assert repos.teams.names() == ["blue", "red"]
        assert repos.teams.names(limit=1) == ["blue"]
        assert repos.teams.set_tags("blue", ["y", "z"])
        assert repos.teams.set_quota_limit("blue", 3)
        blue = repos.teams.get("blue")
        assert blue is not None and blue.tags == ["y", "z"] and blue.quota.limit == 3
        assert blue.creator == "a@example.com"
        assert [t.name for t in repos.teams.all()] == ["blue", "red"]
        assert repos.teams.delete("red") and not repos.teams.delete("red")
        assert not repos.teams.set_tags("red", [])

    # --- roles and groups ---
    def test_roles(self, repos: Repos) -> None:
        repos.roles.add(Role("zeta", "team", "d"))
        repos.roles.add(Role("alpha", "global"))
        with pytest.raises(errors.RoleExists):
            repos.roles.add(Role("zeta", "app"))
        assert [r.name for r in repos.roles.all()] == ["zeta", "alpha"]
        assert repos.roles.add_schemes("zeta", ["app.deploy", "app.read", "app.deploy"])
        assert repos.roles.add_schemes("zeta", ["app.read", "team"])
        assert sorted(repos.roles.get("zeta").schemes) == ["app.deploy", "app.read", "team"]  # type: ignore[union-attr]
        assert repos.roles.remove_scheme("zeta", "team")
        assert repos.roles.add_event("zeta", "team-create")
        assert repos.roles.add_event("zeta", "team-create")
        assert [r.name for r in repos.roles.with_event("team-create")] == ["zeta"]
        assert repos.roles.update("zeta", context="app", description="new")
        z = repos.roles.get("zeta")
        assert z is not None and z.context == "app" and z.description == "new"
        assert z.events == ["team-create"] and sorted(z.schemes) == ["app.deploy", "app.read"]
        assert repos.roles.remove_event("zeta", "team-create")
        assert repos.roles.with_event("team-create") == []
        assert set(repos.roles.get_many(["zeta", "alpha", "nope"])) == {"zeta", "alpha"}
        assert repos.roles.delete("zeta") and not repos.roles.delete("zeta")
        assert not repos.roles.add_schemes("zeta", ["x"])

    def test_groups(self, repos: Repos) -> None:
        repos.groups.add_role("devs", RoleInstance("r", "a"))
        repos.groups.add_role("devs", RoleInstance("r", "a"))
        repos.groups.remove_role("ops", RoleInstance("r", "a"))
        assert repos.groups.roles_of(["devs", "ops", "none"]) == {
            "devs": [RoleInstance("r", "a")], "ops": [],
        }  # fmt: skip
        repos.groups.remove_role("devs", RoleInstance("r", "a"))
        assert repos.groups.roles_of(["devs"]) == {"devs": []}

    # --- team tokens ---
    def test_team_tokens(self, repos: Repos) -> None:
        repos.tokens.add(a_token("t1"))
        repos.tokens.add(a_token("t2", team="red", expires_at=NOW))
        with pytest.raises(errors.TeamTokenExists):
            repos.tokens.add(a_token("t1", token_hash="other"))
        t1 = repos.tokens.get("t1")
        assert t1 == a_token("t1")
        assert t1 is not None and t1.expires_at == ZERO_TIME and t1.last_access == ZERO_TIME
        assert repos.tokens.by_hash("h-t2").token_id == "t2"  # type: ignore[union-attr]
        assert [t.token_id for t in repos.tokens.all()] == ["t1", "t2"]
        assert [t.token_id for t in repos.tokens.all(["red"])] == ["t2"]
        assert repos.tokens.all([]) == []
        later = NOW + timedelta(hours=1)
        assert repos.tokens.update("t1", description="d", expires_at=later, token_hash="nh")
        assert repos.tokens.update("t1")
        assert not repos.tokens.update("zz", description="d")
        repos.tokens.touch("t1", later)
        t1 = repos.tokens.get("t1")
        assert t1 is not None and (t1.description, t1.expires_at, t1.token_hash, t1.last_access) == (
            "d", later, "nh", later,
        )  # fmt: skip
        assert repos.tokens.by_hash("h-t1") is None
        inst = RoleInstance("r", "v")
        assert repos.tokens.add_role("t1", inst) and repos.tokens.add_role("t1", inst)
        assert repos.tokens.get("t1").roles == [inst, inst]  # type: ignore[union-attr]
        assert repos.tokens.remove_role("t1", inst)
        assert repos.tokens.get("t1").roles == []  # type: ignore[union-attr]
        assert not repos.tokens.add_role("zz", inst)
        assert repos.tokens.delete("t1") and not repos.tokens.delete("t1")
