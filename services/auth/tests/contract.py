"""The one contract suite every storage implementation passes (STYLE §5).

Subclass ``StorageContract`` and provide a ``stores`` fixture returning fresh, empty
``Stores``; see ``unit/test_storage_memory.py`` and ``integration/test_storage_mongo.py``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from services.auth.domain import errors
from services.auth.domain.models import (
    ZERO_TIME,
    AppToken,
    ResetToken,
    Role,
    RoleInstance,
    Session,
    Team,
    TeamToken,
    User,
)
from services.auth.storage.ports import Stores

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
    def test_user_roundtrip_and_duplicate(self, stores: Stores) -> None:
        stores.users.add(a_user(roles=[RoleInstance("r", "v")], groups=["g"]))
        got = stores.users.get("alice@example.com")
        assert got is not None
        assert got.roles == [RoleInstance("r", "v")] and got.groups == ["g"]
        assert got.quota.limit == -1 and got.quota.inuse == 0
        with pytest.raises(errors.EmailTaken):
            stores.users.add(a_user())
        assert stores.users.get("bob@example.com") is None

    def test_user_list_in_insertion_order(self, stores: Stores) -> None:
        for e in ("c@example.com", "a@example.com", "b@example.com"):
            stores.users.add(a_user(e))
        assert [u.email for u in stores.users.all()] == [
            "c@example.com", "a@example.com", "b@example.com",
        ]  # fmt: skip

    def test_user_roles_are_a_set(self, stores: Stores) -> None:
        stores.users.add(a_user())
        assert stores.users.add_role("alice@example.com", RoleInstance("r", "x"))
        assert stores.users.add_role("alice@example.com", RoleInstance("r", "x"))
        assert stores.users.add_role("alice@example.com", RoleInstance("r", "y"))
        assert not stores.users.add_role("nobody@example.com", RoleInstance("r", "x"))
        assert stores.users.get("alice@example.com").roles == [  # type: ignore[union-attr]
            RoleInstance("r", "x"), RoleInstance("r", "y"),
        ]  # fmt: skip
        assert [u.email for u in stores.users.with_role("r")] == ["alice@example.com"]
        stores.users.remove_role("alice@example.com", RoleInstance("r", "x"))
        assert stores.users.get("alice@example.com").roles == [RoleInstance("r", "y")]  # type: ignore[union-attr]
        stores.users.remove_role_everywhere("r")
        assert stores.users.get("alice@example.com").roles == []  # type: ignore[union-attr]
        assert stores.users.with_role("r") == []

    def test_user_password_apikey_quota_delete(self, stores: Stores) -> None:
        stores.users.add(a_user())
        assert stores.users.set_password("alice@example.com", "new")
        assert stores.users.set_apikey("alice@example.com", "khash", "seed")
        assert stores.users.set_quota_limit("alice@example.com", 4)
        got = stores.users.by_apikey("khash")
        assert got is not None and got.password == "new" and got.apikey_seed == "seed"
        assert got.quota.limit == 4
        assert stores.users.by_apikey("") is None
        assert stores.users.by_apikey("other") is None
        assert not stores.users.set_password("nobody@example.com", "x")
        assert stores.users.delete("alice@example.com")
        assert not stores.users.delete("alice@example.com")
        assert stores.users.get("alice@example.com") is None

    # --- sessions and reset tokens ---
    def test_sessions(self, stores: Stores) -> None:
        s = Session("h1", "alice@example.com", NOW, NOW + timedelta(days=7))
        stores.sessions.add(s)
        stores.sessions.add(Session("h2", "alice@example.com", NOW, NOW))
        stores.sessions.add(Session("h3", "bob@example.com", NOW, NOW))
        assert stores.sessions.get("h1") == s
        assert stores.sessions.delete("h1") and not stores.sessions.delete("h1")
        assert stores.sessions.delete_for("alice@example.com") == ["h2"]
        assert stores.sessions.get("h2") is None and stores.sessions.get("h3") is not None

    def test_reset_token_used_once(self, stores: Stores) -> None:
        stores.resets.add(ResetToken("r1", "alice@example.com", NOW))
        assert stores.resets.get("r1") == ResetToken("r1", "alice@example.com", NOW, False)
        assert stores.resets.use("r1")
        assert not stores.resets.use("r1")
        assert stores.resets.get("r1").used  # type: ignore[union-attr]
        assert not stores.resets.use("missing")

    # --- teams ---
    def test_teams(self, stores: Stores) -> None:
        stores.teams.add(Team("blue", "a@example.com", ["x"]))
        stores.teams.add(Team("red"))
        with pytest.raises(errors.TeamExists):
            stores.teams.add(Team("blue"))
        assert stores.teams.names() == ["blue", "red"]
        assert stores.teams.names(limit=1) == ["blue"]
        assert stores.teams.set_tags("blue", ["y", "z"])
        assert stores.teams.set_quota_limit("blue", 3)
        blue = stores.teams.get("blue")
        assert blue is not None and blue.tags == ["y", "z"] and blue.quota.limit == 3
        assert blue.creator == "a@example.com"
        assert [t.name for t in stores.teams.all()] == ["blue", "red"]
        assert stores.teams.delete("red") and not stores.teams.delete("red")
        assert not stores.teams.set_tags("red", [])

    # --- roles and groups ---
    def test_roles(self, stores: Stores) -> None:
        stores.roles.add(Role("zeta", "team", "d"))
        stores.roles.add(Role("alpha", "global"))
        with pytest.raises(errors.RoleExists):
            stores.roles.add(Role("zeta", "app"))
        assert [r.name for r in stores.roles.all()] == ["zeta", "alpha"]
        assert stores.roles.add_schemes("zeta", ["app.deploy", "app.read", "app.deploy"])
        assert stores.roles.add_schemes("zeta", ["app.read", "team"])
        assert sorted(stores.roles.get("zeta").schemes) == ["app.deploy", "app.read", "team"]  # type: ignore[union-attr]
        assert stores.roles.remove_scheme("zeta", "team")
        assert stores.roles.add_event("zeta", "team-create")
        assert stores.roles.add_event("zeta", "team-create")
        assert [r.name for r in stores.roles.with_event("team-create")] == ["zeta"]
        assert stores.roles.update("zeta", context="app", description="new")
        z = stores.roles.get("zeta")
        assert z is not None and z.context == "app" and z.description == "new"
        assert z.events == ["team-create"] and sorted(z.schemes) == ["app.deploy", "app.read"]
        assert stores.roles.remove_event("zeta", "team-create")
        assert stores.roles.with_event("team-create") == []
        assert set(stores.roles.get_many(["zeta", "alpha", "nope"])) == {"zeta", "alpha"}
        assert stores.roles.delete("zeta") and not stores.roles.delete("zeta")
        assert not stores.roles.add_schemes("zeta", ["x"])

    def test_groups(self, stores: Stores) -> None:
        stores.groups.add_role("devs", RoleInstance("r", "a"))
        stores.groups.add_role("devs", RoleInstance("r", "a"))
        stores.groups.remove_role("ops", RoleInstance("r", "a"))
        assert stores.groups.roles_of(["devs", "ops", "none"]) == {
            "devs": [RoleInstance("r", "a")], "ops": [],
        }  # fmt: skip
        stores.groups.remove_role("devs", RoleInstance("r", "a"))
        assert stores.groups.roles_of(["devs"]) == {"devs": []}

    # --- team tokens ---
    def test_team_tokens(self, stores: Stores) -> None:
        stores.tokens.add(a_token("t1"))
        stores.tokens.add(a_token("t2", team="red", expires_at=NOW))
        with pytest.raises(errors.TeamTokenExists):
            stores.tokens.add(a_token("t1", token_hash="other"))
        t1 = stores.tokens.get("t1")
        assert t1 == a_token("t1")
        assert t1 is not None and t1.expires_at == ZERO_TIME and t1.last_access == ZERO_TIME
        assert stores.tokens.by_hash("h-t2").token_id == "t2"  # type: ignore[union-attr]
        assert [t.token_id for t in stores.tokens.all()] == ["t1", "t2"]
        assert [t.token_id for t in stores.tokens.all(["red"])] == ["t2"]
        assert stores.tokens.all([]) == []
        later = NOW + timedelta(hours=1)
        assert stores.tokens.update("t1", description="d", expires_at=later, token_hash="nh")
        assert stores.tokens.update("t1")
        assert not stores.tokens.update("zz", description="d")
        stores.tokens.touch("t1", later)
        t1 = stores.tokens.get("t1")
        assert t1 is not None and (t1.description, t1.expires_at, t1.token_hash, t1.last_access) == (
            "d", later, "nh", later,
        )  # fmt: skip
        assert stores.tokens.by_hash("h-t1") is None
        inst = RoleInstance("r", "v")
        assert stores.tokens.add_role("t1", inst) and stores.tokens.add_role("t1", inst)
        assert stores.tokens.get("t1").roles == [inst, inst]  # type: ignore[union-attr]
        assert stores.tokens.remove_role("t1", inst)
        assert stores.tokens.get("t1").roles == []  # type: ignore[union-attr]
        assert not stores.tokens.add_role("zz", inst)
        assert stores.tokens.delete("t1") and not stores.tokens.delete("t1")

    # --- app quota ---
    def test_app_quota_reserve_release(self, stores: Stores) -> None:
        stores.users.add(a_user())
        stores.teams.add(Team("blue"))
        assert stores.users.reserve_app("alice@example.com") == "ok"  # unlimited
        stores.users.set_quota_limit("alice@example.com", 2)
        assert stores.users.reserve_app("alice@example.com") == "ok"
        assert stores.users.reserve_app("alice@example.com") == "exceeded"
        assert stores.users.get("alice@example.com").quota.inuse == 2  # type: ignore[union-attr]
        assert stores.users.release_app("alice@example.com")
        assert stores.users.release_app("alice@example.com")
        assert not stores.users.release_app("alice@example.com")  # never below zero
        assert stores.users.reserve_app("nobody@example.com") == "missing"
        stores.teams.set_quota_limit("blue", 0)
        assert stores.teams.reserve_app("blue") == "exceeded"
        stores.teams.set_quota_limit("blue", 1)
        assert stores.teams.reserve_app("blue") == "ok"
        assert stores.teams.get("blue").quota.inuse == 1  # type: ignore[union-attr]
        assert stores.teams.release_app("blue") and not stores.teams.release_app("blue")
        assert stores.teams.reserve_app("none") == "missing"

    def test_twenty_racing_reserves_at_the_limit(self, stores: Stores) -> None:
        stores.users.add(a_user())
        stores.users.set_quota_limit("alice@example.com", 3)
        won: list[str] = []

        def reserve() -> None:
            if stores.users.reserve_app("alice@example.com") == "ok":
                won.append("x")

        threads = [threading.Thread(target=reserve) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 3
        assert stores.users.get("alice@example.com").quota.inuse == 3  # type: ignore[union-attr]

    # --- app tokens ---
    def test_app_tokens_are_made_once(self, stores: Stores) -> None:
        first = stores.app_tokens.ensure(AppToken("shop", "h1", "s1"))
        assert first == AppToken("shop", "h1", "s1")
        assert stores.app_tokens.ensure(AppToken("shop", "h2", "s2")) == first
        assert stores.app_tokens.get("shop") == first
        assert stores.app_tokens.by_hash("h1") == first
        assert stores.app_tokens.by_hash("h2") is None and stores.app_tokens.by_hash("") is None
        assert stores.app_tokens.delete("shop") == first
        assert stores.app_tokens.delete("shop") is None and stores.app_tokens.get("shop") is None

    def test_racing_app_token_makers_agree(self, stores: Stores) -> None:
        got: list[AppToken] = []

        def make(i: int) -> None:
            got.append(stores.app_tokens.ensure(AppToken("shop", f"h{i}", f"s{i}")))

        threads = [threading.Thread(target=make, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({(t.token_hash, t.seed) for t in got}) == 1
