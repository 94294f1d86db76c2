from __future__ import annotations

import pytest

from services.auth.domain.models import RoleInstance
from services.auth.operations import sessions
from services.auth.tests.fakes import PASSWORD, add_role, add_user
from services.auth.tests.unit.conftest import headers_for
from shared.events import Owner


class TestCreateUser:
    def test_admin_creates_user_with_default_roles(self, client, deps, events, login):
        add_role(deps, "basic", "global", "app.read", events=["user-create"])
        headers = login("boss@example.com", ("global", ["user.create"], ""))
        resp = client.post(
            "/users", data={"email": "new@example.com", "password": "abcdef"}, headers=headers
        )
        assert (resp.status_code, resp.data) == (201, b"")
        user = deps.stores.users.get("new@example.com")
        assert user is not None and user.roles == [RoleInstance("basic", "")]
        assert user.password != "abcdef" and user.password.startswith("$2")
        assert user.quota.limit == -1
        evt = events.last()
        assert (evt.kind.name, evt.target.type, evt.target.value) == (
            "user.create",
            "user",
            "new@example.com",
        )
        assert evt.owner == Owner("user", "new@example.com") and evt.error == ""
        assert {"name": "password", "value": "*****"} in evt.start_custom_data
        assert evt.allowed.scheme == "user.read.events"
        assert evt.allowed.contexts == (("user", "new@example.com"),)

    @pytest.mark.parametrize("who", ["anonymous", "no-permission", "apikey"])
    def test_registration_disabled(self, client, deps, login, who, events):
        headers = {}
        if who == "no-permission":
            headers = login("alice@example.com")
        elif who == "apikey":
            login("boss@example.com", ("global", ["user.create"], ""))
            from services.auth.operations.credentials import show_apikey

            ident = sessions.introspect(deps, sessions.login(deps, "boss@example.com", PASSWORD))
            headers = headers_for(deps, show_apikey(deps, ident, ""))
        resp = client.post(
            "/users", data={"email": "new@example.com", "password": "abcdef"}, headers=headers
        )
        assert resp.status_code == 401
        assert resp.data == b"User registration is disabled for non-admin users.\n"
        assert "WWW-Authenticate" not in resp.headers
        assert deps.stores.users.get("new@example.com") is None
        assert events.records == []

    @pytest.mark.parametrize(
        ("data", "status", "message"),
        [
            ({"email": "bad", "password": "abcdef"}, 400, "invalid email"),
            ({"email": "a@Example.com", "password": "abcdef"}, 400, "invalid email"),
            (
                {"email": "new@example.com", "password": "abc"},
                400,
                "password length should be least 6 characters and at most 50 characters",
            ),
            (
                {"email": "new@example.com", "password": "x" * 51},
                400,
                "password length should be least 6 characters and at most 50 characters",
            ),
            (
                {"email": "boss@example.com", "password": "abcdef"},
                409,
                "this email is already registered",
            ),
        ],
    )
    def test_bad_input(self, client, deps, login, events, data, status, message):
        headers = login("boss@example.com", ("global", ["user.create"], ""))
        before = len(deps.stores.users.items)
        resp = client.post("/users", data=data, headers=headers)
        assert (resp.status_code, resp.data.decode()) == (status, message + "\n")
        assert len(deps.stores.users.items) == before
        assert events.last().error == message

    def test_open_registration(self, client, deps, env, team_usage):
        from services.auth.bootstrap import config_from, create_app
        from services.auth.settings import AuthSettings
        from services.auth.tests.fakes import fake_deps

        settings = AuthSettings.from_env({**env, "TSUBAME_USER_REGISTRATION": "true"})
        app = create_app(settings, fake_deps(config_from(settings)))
        resp = app.test_client().post(
            "/users", json={"email": "me@example.com", "password": "abcdef"}
        )
        assert resp.status_code == 201
        assert app.extensions["tsubame"]["deps"].stores.users.get("me@example.com") is not None

    def test_malformed_json_stores_nothing(self, client, deps, login):
        headers = login("boss@example.com", ("global", ["user.create"], ""))
        resp = client.post("/users", data="{bad", content_type="application/json", headers=headers)
        assert resp.status_code == 400
        assert list(deps.stores.users.items) == ["boss@example.com"]


class TestInfoAndList:
    def test_user_info(self, client, deps, login):
        headers = login("admin@example.com")
        add_role(deps, "AllowAll", "global", "*")
        deps.stores.users.add_role("admin@example.com", RoleInstance("AllowAll", ""))
        resp = client.get("/users/info", headers=headers)
        assert resp.status_code == 200
        assert resp.get_json() == {
            "Email": "admin@example.com",
            "Roles": [{"Name": "AllowAll", "ContextType": "global", "ContextValue": ""}],
            "Permissions": [{"Name": "", "ContextType": "global", "ContextValue": ""}],
            "Groups": None,
        }

    def test_user_info_with_groups(self, client, deps, login):
        add_role(deps, "dep", "app", "app.deploy", "app.read")
        add_user(deps, "g@example.com", groups=["devs"])
        deps.stores.groups.add_role("devs", RoleInstance("dep", "myapp"))
        headers = headers_for(deps, sessions.login(deps, "g@example.com", PASSWORD))
        body = client.get("/users/info", headers=headers).get_json()
        assert body["Roles"] == [
            {"Name": "dep", "ContextType": "app", "ContextValue": "myapp", "Group": "devs"}
        ]
        assert [p["Name"] for p in body["Permissions"]] == ["app.deploy", "app.read"]
        assert body["Groups"] == ["devs"]

    def test_list_users_admin_sees_everyone(self, client, deps, login):
        headers = login("admin@example.com", ("global", ["*"], ""))
        add_user(deps, "bob@example.com")
        body = client.get("/users", headers=headers).get_json()
        assert [u["Email"] for u in body] == ["admin@example.com", "bob@example.com"]

    def test_list_users_non_admin_sees_team_members_it_can_manage(self, client, deps, login):
        add_role(deps, "member", "team", "app.read")
        add_user(deps, "bob@example.com", ("member", "blue"))
        add_user(deps, "carl@example.com", ("member", "red"))
        headers = login("alice@example.com", ("team", ["app"], "blue"))
        body = client.get("/users", headers=headers).get_json()
        assert [u["Email"] for u in body] == ["bob@example.com", "alice@example.com"]
        bob = body[0]
        assert bob["Roles"] == [{"Name": "member", "ContextType": "team", "ContextValue": "blue"}]

    def test_list_filters_and_fallback(self, client, deps, login):
        headers = login("admin@example.com", ("global", ["*"], ""))
        add_role(deps, "member", "team", "app.read")
        add_user(deps, "bob@example.com", ("member", "blue"))
        body = client.get("/users?userEmail=bob@example.com", headers=headers).get_json()
        assert [u["Email"] for u in body] == ["bob@example.com"]
        body = client.get("/users?role=member&context=blue", headers=headers).get_json()
        assert [u["Email"] for u in body] == ["bob@example.com"]
        body = client.get("/users?userEmail=nobody@example.com", headers=headers).get_json()
        assert [u["Email"] for u in body] == ["admin@example.com"]
        resp = client.get("/users?role=member&context=red", headers=headers)
        assert (resp.status_code, resp.data) == (404, b"Wrong context being passed.\n")


class TestRemoveUser:
    def test_remove_self(self, client, deps, login, events, published):
        headers = login("alice@example.com")
        resp = client.delete("/users", headers=headers)
        assert resp.status_code == 200
        assert deps.stores.users.get("alice@example.com") is None
        assert deps.stores.sessions.items == {}  # type: ignore[attr-defined]
        assert (
            events.last().kind.name == "user.delete"
            and events.last().target.value == "alice@example.com"
        )
        keys = [k for k, _ in published]
        assert (
            "auth.token.revoked" in keys
            and ("auth.identity.changed", {"email": "alice@example.com"}) in published
        )

    def test_remove_other_needs_permission(self, client, deps, login):
        add_user(deps, "bob@example.com")
        headers = login("alice@example.com")
        resp = client.delete("/users?user=bob@example.com", headers=headers)
        assert resp.status_code == 403
        assert deps.stores.users.get("bob@example.com") is not None
        headers = login("boss@example.com", ("user", ["user.delete"], "bob@example.com"))
        assert client.delete("/users?user=bob@example.com", headers=headers).status_code == 200
        assert deps.stores.users.get("bob@example.com") is None

    def test_remove_unknown(self, client, login):
        headers = login("admin@example.com", ("global", ["*"], ""))
        resp = client.delete("/users?user=nobody@example.com", headers=headers)
        assert (resp.status_code, resp.data) == (404, b"user not found\n")
        resp = client.delete("/users?user=bad", headers=headers)
        assert (resp.status_code, resp.data) == (404, b"invalid email\n")


class TestUserQuota:
    def test_read_own_and_update_as_admin(self, client, deps, login, events):
        headers = login("alice@example.com")
        resp = client.get("/users/alice@example.com/quota", headers=headers)
        assert resp.status_code == 200 and resp.data == b'{"limit":-1,"inuse":0}\n'
        assert (
            client.put(
                "/users/alice@example.com/quota", data={"limit": "3"}, headers=headers
            ).status_code
            == 403
        )
        admin = login("admin@example.com", ("global", ["user.update.quota"], ""))
        resp = client.put("/users/alice@example.com/quota", data={"limit": "3"}, headers=admin)
        assert resp.status_code == 200
        assert deps.stores.users.get("alice@example.com").quota.limit == 3
        assert events.last().kind.name == "user.update.quota"
        resp = client.put("/users/alice@example.com/quota", data={"limit": "-5"}, headers=admin)
        assert deps.stores.users.get("alice@example.com").quota.limit == -1

    def test_errors(self, client, deps, login):
        admin = login("admin@example.com", ("global", ["*"], ""))
        resp = client.put("/users/alice@example.com/quota", data={"limit": "x"}, headers=admin)
        assert (resp.status_code, resp.data) == (404, b"user not found\n")
        add_user(deps, "alice@example.com")
        resp = client.put("/users/alice@example.com/quota", data={"limit": "x"}, headers=admin)
        assert (resp.status_code, resp.data) == (400, b"Invalid limit\n")
        deps.stores.users.items["alice@example.com"].quota.inuse = 2
        resp = client.put("/users/alice@example.com/quota", data={"limit": "1"}, headers=admin)
        assert (resp.status_code, resp.data) == (
            403,
            b"New limit is less than the current allocated value\n",
        )
        assert deps.stores.users.get("alice@example.com").quota.limit == -1
        resp = client.get("/users/bad/quota", headers=admin)
        assert (resp.status_code, resp.data) == (400, b"invalid email\n")
        other = login("bob@example.com")
        assert client.get("/users/alice@example.com/quota", headers=other).status_code == 403
