from __future__ import annotations

import pytest

from services.auth.domain.models import RoleInstance, Team
from services.auth.tests.fakes import add_role, add_user

ALL_TEAM_PERMS = ["app", "team", "service", "service-instance", "volume", "webhook"]
BAD_NAME = (
    "Invalid team name, team names should start with a letter and"
    "contain only lower case letters, numbers, dashes, underscore and @."
)


class TestCreate:
    def test_create_with_tags_and_default_roles(self, client, deps, login, events, published):
        add_role(deps, "owner", "team", "app", events=["team-create"])
        headers = login("alice@example.com", ("global", ["team.create"], ""))
        resp = client.post(
            "/teams", data={"name": "blue", "tag": ["a", " b ", "a", ""]}, headers=headers
        )
        assert (resp.status_code, resp.data) == (201, b"")
        team = deps.stores.teams.get("blue")
        assert team.tags == ["a", "b"] and team.creator == "alice@example.com"
        assert RoleInstance("owner", "blue") in deps.stores.users.get("alice@example.com").roles
        evt = events.last()
        assert (evt.kind.name, evt.target.type, evt.target.value, evt.error) == (
            "team.create",
            "team",
            "blue",
            "",
        )
        assert evt.allowed.scheme == "team.read.events"
        assert ("auth.identity.changed", {"email": "alice@example.com"}) in published

    def test_json_tags(self, client, deps, login):
        headers = login("alice@example.com", ("global", ["team.create"], ""))
        resp = client.post("/teams", json={"name": "red", "tags": ["x", "y"]}, headers=headers)
        assert resp.status_code == 201
        assert deps.stores.teams.get("red").tags == ["x", "y"]

    @pytest.mark.parametrize("name", ["", "a", "1abc", "Blue", "bad name", "-x", "é-team"])
    def test_invalid_names(self, client, deps, login, name):
        headers = login("alice@example.com", ("global", ["team.create"], ""))
        resp = client.post("/teams", data={"name": name}, headers=headers)
        assert (resp.status_code, resp.data.decode()) == (400, BAD_NAME + "\n")
        assert deps.stores.teams.all() == []

    def test_valid_unusual_names(self, client, deps, login):
        headers = login("alice@example.com", ("global", ["team.create"], ""))
        for name in ("aB_c", "a@b.c+d", "x-1"):
            assert client.post("/teams", data={"name": name}, headers=headers).status_code == 201

    def test_duplicate_malformed_and_forbidden(self, client, deps, login):
        headers = login("alice@example.com", ("global", ["team.create"], ""))
        client.post("/teams", data={"name": "blue"}, headers=headers)
        resp = client.post("/teams", data={"name": "blue"}, headers=headers)
        assert (resp.status_code, resp.data) == (409, b"team already exists\n")
        resp = client.post("/teams", data="{nope", content_type="application/json", headers=headers)
        assert resp.status_code == 400 and resp.data.startswith(b"unable to parse as json")
        other = login("bob@example.com", ("team", ["team"], "blue"))
        resp = client.post("/teams", data={"name": "green"}, headers=other)
        assert resp.status_code == 403
        assert [t.name for t in deps.stores.teams.all()] == ["blue"]


class TestRead:
    def test_list_global_star(self, client, deps, login):
        deps.stores.teams.add(Team("blue", tags=["prod"]))
        deps.stores.teams.add(Team("red"))
        headers = login("admin@example.com", ("global", ["*"], ""))
        resp = client.get("/teams", headers=headers)
        assert resp.status_code == 200
        assert resp.get_json() == [
            {"name": "blue", "tags": ["prod"], "permissions": ALL_TEAM_PERMS},
            {"name": "red", "tags": None, "permissions": ALL_TEAM_PERMS},
        ]

    def test_list_team_scoped(self, client, deps, login):
        deps.stores.teams.add(Team("t1"))
        deps.stores.teams.add(Team("t2"))
        headers = login("alice@example.com", ("team", ["app.create"], "t1"))
        assert client.get("/teams", headers=headers).get_json() == [
            {"name": "t1", "tags": None, "permissions": ["app.create"]}
        ]
        headers = login("bob@example.com", ("team", ["app", "app.create"], "t1"))
        assert client.get("/teams", headers=headers).get_json()[0]["permissions"] == ["app"]

    def test_list_nothing_is_204(self, client, deps, login):
        deps.stores.teams.add(Team("t1"))
        resp = client.get("/teams", headers=login("alice@example.com"))
        assert (resp.status_code, resp.data) == (204, b"")

    def test_info(self, client, deps, login):
        deps.stores.teams.add(Team("blue", tags=["prod"]))
        add_role(deps, "member", "team", "app.read")
        add_user(deps, "bob@example.com", ("member", "blue"))
        add_user(deps, "carl@example.com", ("member", "red"))
        headers = login("admin@example.com", ("global", ["*"], ""))
        body = client.get("/teams/blue", headers=headers).get_json()
        assert body["name"] == "blue" and body["tags"] == ["prod"]
        assert body["pools"] is None and body["apps"] == []
        assert [u["Email"] for u in body["users"]] == ["bob@example.com", "admin@example.com"]

    def test_info_needs_global_team_read(self, client, deps, login):
        deps.stores.teams.add(Team("blue"))
        headers = login("alice@example.com", ("team", ["team.read"], "blue"))
        assert client.get("/teams/blue", headers=headers).status_code == 403
        resp = client.get("/teams/nope", headers=headers)
        assert (resp.status_code, resp.data) == (404, b"team not found\n")
        headers = login("bob@example.com", ("global", ["team.read"], ""))
        assert client.get("/teams/blue", headers=headers).get_json()["users"] == []


class TestUpdateRemove:
    def test_update_tags_and_rename(self, client, deps, login, events):
        deps.stores.teams.add(Team("blue", tags=["a"]))
        headers = login("alice@example.com", ("team", ["team.update"], "blue"))
        resp = client.put("/teams/blue", data={"tag": ["x"]}, headers=headers)
        assert resp.status_code == 200 and deps.stores.teams.get("blue").tags == ["x"]
        assert client.post("/teams/blue", data={}, headers=headers).status_code == 200
        assert deps.stores.teams.get("blue").tags == []
        assert events.last().kind.name == "team.update"
        resp = client.put("/teams/blue", json={"NewName": "navy", "tags": ["t"]}, headers=headers)
        assert resp.status_code == 200
        assert deps.stores.teams.get("blue") is None and deps.stores.teams.get("navy").tags == ["t"]

    def test_update_errors(self, client, deps, login):
        deps.stores.teams.add(Team("blue"))
        deps.stores.teams.add(Team("red"))
        headers = login("alice@example.com", ("global", ["team.update"], ""))
        resp = client.put("/teams/nope", data={}, headers=headers)
        assert (resp.status_code, resp.data) == (404, b"team not found\n")
        resp = client.put("/teams/blue", data={"newname": "Bad Name"}, headers=headers)
        assert (resp.status_code, resp.data.decode()) == (400, BAD_NAME + "\n")
        resp = client.put("/teams/blue", data={"newname": "red"}, headers=headers)
        assert (resp.status_code, resp.data) == (409, b"team already exists\n")
        other = login("bob@example.com", ("team", ["team.update"], "red"))
        assert client.put("/teams/blue", data={}, headers=other).status_code == 403
        assert deps.stores.teams.names() == ["blue", "red"]

    def test_remove(self, client, deps, login, events, published):
        deps.stores.teams.add(Team("blue"))
        denied = login("bob@example.com", ("team", ["team.delete"], "red"))
        resp = client.delete("/teams/blue", headers=denied)
        assert (resp.status_code, resp.data) == (404, b'Team "blue" not found.\n')
        headers = login("alice@example.com", ("team", ["team.delete"], "blue"))
        assert client.delete("/teams/blue", headers=headers).status_code == 200
        assert deps.stores.teams.get("blue") is None
        assert events.last().kind.name == "team.delete"
        assert ("auth.team.removed", {"team": "blue"}) in published
        resp = client.delete("/teams/blue", headers=headers)
        assert (resp.status_code, resp.data) == (404, b'Team "blue" not found.\n')

    def test_remove_refused_while_in_use(self, client, deps, login, team_usage):
        deps.stores.teams.add(Team("blue"))
        team_usage._apps["blue"] = ["a1", "a2"]
        headers = login("alice@example.com", ("global", ["*"], ""))
        resp = client.delete("/teams/blue", headers=headers)
        assert resp.status_code == 403
        assert resp.data == (
            b"This team cannot be removed because there are still references to it:\nApps: a1, a2\n"
        )
        team_usage._apps.clear()
        team_usage._instances["blue"] = ["si1"]
        resp = client.delete("/teams/blue", headers=headers)
        assert resp.data.endswith(b"\nService instances: si1\n")
        assert deps.stores.teams.get("blue") is not None


class TestTeamQuota:
    def test_get_put(self, client, deps, login, events):
        deps.stores.teams.add(Team("blue"))
        headers = login("alice@example.com", ("team", ["team"], "blue"))
        resp = client.get("/teams/blue/quota", headers=headers)
        assert resp.data == b'{"limit":-1,"inuse":0}\n'
        assert (
            client.put("/teams/blue/quota", data={"limit": "4"}, headers=headers).status_code == 200
        )
        assert deps.stores.teams.get("blue").quota.limit == 4
        assert events.last().kind.name == "team.update.quota"
        resp = client.put("/teams/blue/quota", data={"limit": "four"}, headers=headers)
        assert (resp.status_code, resp.data) == (400, b"Invalid limit\n")
        deps.stores.teams.items["blue"].quota.inuse = 3
        resp = client.put("/teams/blue/quota", data={"limit": "2"}, headers=headers)
        assert resp.status_code == 403
        resp = client.get(
            "/teams/nope/quota", headers=login("admin@example.com", ("global", ["*"], ""))
        )
        assert (resp.status_code, resp.data) == (404, b"team not found\n")
        other = login("bob@example.com", ("team", ["team"], "red"))
        assert client.get("/teams/blue/quota", headers=other).status_code == 403

    def test_info_lists_the_apps_the_team_owns(self, client, deps, login, team_usage):
        deps.stores.teams.add(Team("blue"))
        team_usage._apps["blue"] = ["a1"]
        headers = login("alice@example.com", ("global", ["*"], ""))
        body = client.get("/teams/blue", headers=headers).get_json()
        assert body["apps"] == [{"name": "a1", "teamowner": "blue"}]
