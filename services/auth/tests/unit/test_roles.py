from __future__ import annotations

import pytest

from services.auth.domain.models import Role, RoleInstance, Team, TeamToken
from services.auth.tests.fakes import add_role, add_user
from shared.permissions import sorted_nodes


@pytest.fixture
def root(login):
    return login("admin@example.com", ("global", ["*"], ""))


class TestCrud:
    def test_create_list_info_delete(self, client, deps, root, events, published):
        resp = client.post(
            "/roles", data={"name": " dev ", "context": "team", "description": "d"}, headers=root
        )
        assert (resp.status_code, resp.data) == (201, b"")
        assert deps.stores.roles.get("dev") == Role("dev", "team", "d")
        evt = events.last()
        assert (evt.kind.name, evt.target.type, evt.target.value) == (
            "role.create",
            "role",
            " dev ",
        )
        assert evt.allowed.scheme == "role.read.events"
        client.post(
            "/roles/dev/permissions", data={"permission": ["app.deploy", "app.read"]}, headers=root
        )
        resp = client.get("/roles/dev", headers=root)
        assert resp.data == (
            b'{"name":"dev","context":"team","Description":"d","scheme_names":["app.deploy","app.read"]}'
        )
        resp = client.get("/roles", headers=root)
        names = [r["name"] for r in resp.get_json()]
        assert names[-1] == "dev" and not resp.data.endswith(b"\n")
        assert client.delete("/roles/dev", headers=root).status_code == 200
        assert deps.stores.roles.get("dev") is None
        assert events.last().kind.name == "role.delete"
        assert published[-1] == ("auth.identity.changed", {})
        resp = client.get("/roles/dev", headers=root)
        assert (resp.status_code, resp.data) == (404, b"role not found\n")

    @pytest.mark.parametrize(
        ("data", "status", "message"),
        [
            ({"name": "", "context": "team"}, 400, "invalid role name"),
            ({"name": "  ", "context": "team"}, 400, "invalid role name"),
            ({"name": "x", "context": "galaxy"}, 400, 'invalid context type "galaxy"'),
            ({"name": "x"}, 400, 'invalid context type ""'),
            ({"name": "taken", "context": "global"}, 409, "role already exists"),
        ],
    )
    def test_create_errors(self, client, deps, root, data, status, message):
        add_role(deps, "taken", "team")
        before = len(deps.stores.roles.items)
        resp = client.post("/roles", data=data, headers=root)
        assert (resp.status_code, resp.data.decode()) == (status, message + "\n")
        assert len(deps.stores.roles.items) == before

    def test_delete_refused_while_users_hold_it(self, client, deps, root):
        add_role(deps, "dev", "team")
        add_user(deps, "bob@example.com", ("dev", "blue"))
        resp = client.delete("/roles/dev", headers=root)
        assert resp.status_code == 412
        assert (
            resp.data
            == b"role has users assigned. you must dissociate them before remove the role.\n"
        )
        assert deps.stores.roles.get("dev") is not None

    def test_readers(self, client, login):
        for perm in (
            "role.update",
            "role.update.assign",
            "role.update.dissociate",
            "role.create",
            "role.delete",
        ):
            headers = login(f"{perm}@example.com", ("global", [perm], ""))
            assert client.get("/roles", headers=headers).status_code == 200
        headers = login("x@example.com", ("global", ["role.default"], ""))
        assert client.get("/roles", headers=headers).status_code == 403


class TestUpdate:
    def test_update_in_place_and_rename(self, client, deps, root, events):
        add_role(deps, "dev", "team", "app.read")
        add_user(deps, "bob@example.com", ("dev", "blue"))
        resp = client.put("/roles", data={"name": "dev", "description": "new"}, headers=root)
        assert resp.status_code == 200 and deps.stores.roles.get("dev").description == "new"
        assert events.last().allowed.scheme == "role.update"
        resp = client.put("/roles", data={"name": "dev", "newName": "developer"}, headers=root)
        assert resp.status_code == 200
        assert deps.stores.roles.get("dev") is None
        assert deps.stores.roles.get("developer").schemes == ["app.read"]
        assert deps.stores.users.get("bob@example.com").roles == [RoleInstance("developer", "blue")]

    def test_update_errors(self, client, deps, root, login):
        add_role(deps, "dev", "team")
        add_role(deps, "ops", "team")
        cases = [
            (
                {"name": "dev"},
                400,
                "Neither the description, context or new name were set. You must define at least one.",
            ),
            ({"name": "nope", "description": "x"}, 400, "role not found"),
            ({"name": "dev", "contextType": "galaxy"}, 400, 'invalid context type "galaxy"'),
            ({"name": "dev", "newName": "ops"}, 400, "role already exists"),
        ]
        for data, status, message in cases:
            resp = client.put("/roles", data=data, headers=root)
            assert (resp.status_code, resp.data.decode()) == (status, message + "\n")
        headers = login("d@example.com", ("global", ["role.update.description"], ""))
        assert (
            client.put("/roles", data={"name": "dev", "newName": "x"}, headers=headers).status_code
            == 403
        )
        assert (
            client.put(
                "/roles", data={"name": "dev", "description": "x"}, headers=headers
            ).status_code
            == 200
        )


class TestPermissions:
    def test_add_rules(self, client, deps, root):
        add_role(deps, "t", "team")
        add_role(deps, "a", "app")
        add_role(deps, "g", "global")
        cases = [
            ("t", ["app.deploy", ""], 400, "invalid permission name"),
            ("t", ["App.Deploy"], 400, 'permission named "App.Deploy" not found'),
            (
                "t",
                ["app.deploy", "pool.create"],
                409,
                'permission "pool.create" not allowed with context of type "team"',
            ),
            ("t", ["*"], 409, 'permission "" not allowed with context of type "team"'),
            (
                "a",
                ["app.create"],
                409,
                'permission "app.create" not allowed with context of type "app"',
            ),
            ("nope", ["app.deploy"], 404, "role not found"),
        ]
        for role, perms, status, message in cases:
            resp = client.post(
                f"/roles/{role}/permissions", data={"permission": perms}, headers=root
            )
            assert (resp.status_code, resp.data.decode()) == (status, message + "\n")
        assert deps.stores.roles.get("t").schemes == []
        assert (
            client.post(
                "/roles/g/permissions", data={"permission": ["*", "app"]}, headers=root
            ).status_code
            == 200
        )
        assert (
            client.post(
                "/roles/t/permissions",
                json={"permission": ["app.create", "app.create"]},
                headers=root,
            ).status_code
            == 200
        )
        assert deps.stores.roles.get("t").schemes == ["app.create"]
        assert client.get("/roles/g", headers=root).get_json()["scheme_names"] == ["*", "app"]

    def test_remove(self, client, deps, root, events):
        add_role(deps, "g", "global", "*", "app")
        assert client.delete("/roles/g/permissions/*", headers=root).status_code == 200
        assert client.delete("/roles/g/permissions/unknown.thing", headers=root).status_code == 200
        assert deps.stores.roles.get("g").schemes == ["app"]
        assert events.last().kind.name == "role.update.permission.remove"
        resp = client.delete("/roles/nope/permissions/app", headers=root)
        assert (resp.status_code, resp.data) == (404, b"role not found\n")

    def test_permission_list(self, client, root, login):
        resp = client.get("/permissions", headers=root)
        body = resp.get_json()
        assert body[0] == {"Name": "", "Contexts": ["global"]}
        assert body[1] == {"Name": "app", "Contexts": ["global", "app", "team", "pool"]}
        assert len(body) == len(sorted_nodes())
        assert client.get("/permissions", headers=login("x@example.com")).status_code == 403


class TestAssign:
    def test_user_assign_and_dissociate(self, client, deps, root, events, published):
        add_role(deps, "dev", "team", "app.deploy")
        add_user(deps, "bob@example.com")
        deps.stores.teams.add(Team("blue"))
        data = {"email": "bob@example.com", "context": "blue"}
        assert client.post("/roles/dev/user", data=data, headers=root).status_code == 200
        assert client.post("/roles/dev/user", data=data, headers=root).status_code == 200
        assert deps.stores.users.get("bob@example.com").roles == [RoleInstance("dev", "blue")]
        evt = events.last()
        assert (evt.kind.name, evt.target.value) == ("role.update.assign", "dev")
        assert ("auth.identity.changed", {"email": "bob@example.com"}) in published
        # DELETE reads the context from the query only
        resp = client.delete("/roles/dev/user/bob@example.com?context=blue", headers=root)
        assert resp.status_code == 200 and deps.stores.users.get("bob@example.com").roles == []
        assert events.last().kind.name == "role.update.dissociate"

    def test_can_use_role_rule(self, client, deps, login):
        add_role(deps, "dev", "team", "app.create", "app.deploy")
        add_role(deps, "g", "global", "app.create")
        add_user(deps, "bob@example.com")
        deps.stores.teams.add(Team("blue"))
        headers = login(
            "lead@example.com",
            ("global", ["role.update.assign"], ""),
            ("team", ["app.deploy"], "blue"),
        )
        resp = client.post(
            "/roles/dev/user", data={"email": "bob@example.com", "context": "blue"}, headers=headers
        )
        assert resp.status_code == 403
        assert resp.data == b"User not authorized to use permission app.create(team blue)\n"
        resp = client.post("/roles/g/user", data={"email": "bob@example.com"}, headers=headers)
        assert resp.data == b"User not authorized to use permission app.create(global)\n"
        headers = login(
            "lead2@example.com", ("global", ["role.update.assign"], ""), ("team", ["app"], "blue")
        )
        resp = client.post(
            "/roles/dev/user", data={"email": "bob@example.com", "context": "blue"}, headers=headers
        )
        assert resp.status_code == 200
        resp = client.post(
            "/roles/dev/user", data={"email": "bob@example.com", "context": "red"}, headers=headers
        )
        assert resp.status_code == 403
        assert deps.stores.users.get("bob@example.com").roles == [RoleInstance("dev", "blue")]

    @pytest.mark.parametrize(
        "value", ["x" * 256, "blue team", "blue\n", "a\u200bb", "\u00a0", "tab\tbed"]
    )
    @pytest.mark.parametrize("ctx", ["team", "app", "pool", "global"])
    def test_context_values_are_bounded(self, client, deps, root, ctx, value):
        # One long value used to make every grant header of its holder too large.
        add_role(deps, "r", ctx, "app.read")
        add_user(deps, "bob@example.com")
        for target in ("/roles/r/user", "/roles/r/group"):
            data = {"email": "bob@example.com", "group_name": "g", "context": value}
            resp = client.post(target, data=data, headers=root)
            assert resp.status_code == 400, target
            assert resp.data.startswith(b"invalid context value: ")
        assert deps.stores.users.get("bob@example.com").roles == []

    def test_team_context_names_an_existing_team(self, client, deps, root):
        add_role(deps, "dev", "team", "app.deploy")
        add_role(deps, "pooled", "pool", "app.deploy")
        add_user(deps, "bob@example.com")
        data = {"email": "bob@example.com", "context": "ghost"}
        resp = client.post("/roles/dev/user", data=data, headers=root)
        assert (resp.status_code, resp.data) == (404, b"team not found\n")
        # Pools belong to another context: only their shape is checked here.
        resp = client.post("/roles/pooled/user", data=data, headers=root)
        assert resp.status_code == 200
        assert deps.stores.users.get("bob@example.com").roles == [RoleInstance("pooled", "ghost")]

    def test_user_assign_errors(self, client, deps, root):
        add_role(deps, "dev", "team")
        cases = [
            ("dev", {"email": "bad", "context": "x"}, 400, "invalid email"),
            ("dev", {"email": "nobody@example.com"}, 404, "user not found"),
            ("nope", {"email": "admin@example.com"}, 404, "role not found"),
        ]
        for role, data, status, message in cases:
            resp = client.post(f"/roles/{role}/user", data=data, headers=root)
            assert (resp.status_code, resp.data.decode()) == (status, message + "\n")

    def test_token_assign(self, client, deps, root, published):
        add_role(deps, "dep", "app", "app.deploy")
        deps.stores.tokens.add(TeamToken("t1", "h", "blue", "a@example.com", deps.clock()))
        data = {"token_id": "t1", "context": "myapp"}
        assert client.post("/roles/dep/token", data=data, headers=root).status_code == 200
        assert client.post("/roles/dep/token", data=data, headers=root).status_code == 200
        assert deps.stores.tokens.get("t1").roles == [RoleInstance("dep", "myapp")] * 2
        assert ("auth.identity.changed", {"token_id": "t1"}) in published
        resp = client.post("/roles/dep/token", data={"token_id": "nope"}, headers=root)
        assert (resp.status_code, resp.data) == (404, b"")
        assert client.delete("/roles/dep/token/t1?context=myapp", headers=root).status_code == 200
        assert deps.stores.tokens.get("t1").roles == []
        assert client.delete("/roles/dep/token/nope", headers=root).status_code == 404

    def test_group_assign(self, client, deps, root):
        add_role(deps, "dep", "app", "app.deploy")
        data = {"group_name": "devs", "context": "myapp"}
        assert client.post("/roles/dep/group", data=data, headers=root).status_code == 200
        assert deps.stores.groups.roles_of(["devs"]) == {"devs": [RoleInstance("dep", "myapp")]}
        resp = client.post("/roles/dep/group", data={"context": "x"}, headers=root)
        assert (resp.status_code, resp.data) == (400, b"group name cannot be empty\n")
        assert client.delete("/roles/dep/group/devs?context=myapp", headers=root).status_code == 200
        assert deps.stores.groups.roles_of(["devs"]) == {"devs": []}

    def test_assign_needs_permission(self, client, deps, login):
        add_role(deps, "dev", "team")
        add_user(deps, "bob@example.com")
        headers = login("x@example.com", ("team", ["team"], "blue"))
        for path in ("/roles/dev/user", "/roles/dev/token", "/roles/dev/group"):
            assert (
                client.post(path, data={"email": "bob@example.com"}, headers=headers).status_code
                == 403
            )


class TestDefaultRoles:
    def test_add_list_remove(self, client, deps, root, events):
        add_role(deps, "basic", "global")
        add_role(deps, "owner", "team")
        resp = client.post(
            "/role/default", data={"user-create": "basic", "team-create": "owner"}, headers=root
        )
        assert resp.status_code == 200
        assert deps.stores.roles.get("basic").events == ["user-create"]
        assert [e.kind.name for e in events.records[-2:]] == ["role.default.create"] * 2
        body = client.get("/role/default", headers=root).get_json()
        assert {r["name"]: r["events"] for r in body} == {
            "basic": ["user-create"],
            "owner": ["team-create"],
        }
        assert client.delete("/role/default?user-create=basic", headers=root).status_code == 200
        assert deps.stores.roles.get("basic").events == []
        assert events.last().kind.name == "role.default.delete"

    def test_errors(self, client, deps, root, login):
        add_role(deps, "owner", "team")
        resp = client.post("/role/default", data={"user-create": "owner"}, headers=root)
        assert (resp.status_code, resp.data) == (
            400,
            b'wrong context type for role event, expected "global" role has "team"\n',
        )
        resp = client.post("/role/default", data={"user-create": "nope"}, headers=root)
        assert (resp.status_code, resp.data) == (400, b"role not found\n")
        resp = client.delete("/role/default?team-create=nope", headers=root)
        assert (resp.status_code, resp.data) == (400, b"role not found\n")
        assert client.post("/role/default", data={}, headers=root).status_code == 200
        headers = login("x@example.com")
        assert client.get("/role/default", headers=headers).status_code == 403
        assert deps.stores.roles.get("owner").events == []
