from __future__ import annotations

import re
from datetime import timedelta

import pytest

from services.auth.domain.models import RoleInstance, Team
from services.auth.operations import sessions
from services.auth.tests.fakes import add_role
from services.auth.tests.unit.conftest import headers_for
from services.auth.tests.unit.test_sessions import internal_headers
from shared.identity import token_hash


@pytest.fixture
def creator(deps, login):
    deps.stores.teams.add(Team("blue"))
    return login("alice@example.com", ("team", ["team.token"], "blue"))


class TestCreate:
    def test_create_shows_value_once(self, client, deps, creator, events):
        resp = client.post("/tokens", data={"team": "blue", "description": "ci"}, headers=creator)
        assert resp.status_code == 201
        body = resp.get_json()
        value = body["token"]
        assert re.fullmatch(r"[0-9a-f]{64}", value)
        assert body["token_id"] == f"blue-{value[:5]}"
        assert body["team"] == "blue" and body["creator_email"] == "alice@example.com"
        assert body["expires_at"] == "0001-01-01T00:00:00Z" and "roles" not in body
        assert body["last_access"] == "0001-01-01T00:00:00Z"
        stored = deps.stores.tokens.get(body["token_id"])
        assert stored.token_hash == token_hash(value)
        evt = events.last()
        assert (evt.kind.name, evt.target.type, evt.target.value) == (
            "team.token.create",
            "team",
            "blue",
        )
        info = client.get(f"/tokens/{body['token_id']}", headers=creator).get_json()
        assert info["token"] == "" and info["description"] == "ci"

    def test_team_chosen_automatically(self, client, deps, creator):
        resp = client.post("/tokens", json={"token_id": "mytok", "expires_in": 60}, headers=creator)
        assert resp.status_code == 201
        tok = deps.stores.tokens.get("mytok")
        assert tok.team == "blue"
        assert tok.expires_at - tok.created_at == timedelta(seconds=60)

    def test_errors(self, client, deps, creator, login):
        client.post("/tokens", data={"team": "blue", "token_id": "dup"}, headers=creator)
        cases = [
            ({"team": "blue", "token_id": "dup"}, 409, "team token already exists"),
            ({"team": "blue", "token_id": "Bad_Id"}, 400, "invalid token_id"),
            ({"team": "blue", "expires_in": "soon"}, 400, None),
        ]
        for data, status, message in cases:
            resp = client.post("/tokens", data=data, headers=creator)
            assert resp.status_code == status
            if message:
                assert resp.data.decode() == message + "\n"
        resp = client.post("/tokens", data={"team": "red"}, headers=creator)
        assert resp.status_code == 403
        admin = login("admin@example.com", ("global", ["*"], ""))
        resp = client.post("/tokens", data={"team": "red"}, headers=admin)
        assert (resp.status_code, resp.data) == (404, b"team not found\n")
        deps.stores.teams.add(Team("red"))
        resp = client.post("/tokens", data={}, headers=admin)
        assert (resp.status_code, resp.data) == (
            400,
            b"You must provide a team to execute this action.\n",
        )
        nobody = login("bob@example.com")
        assert client.post("/tokens", data={}, headers=nobody).status_code == 403
        assert [t.token_id for t in deps.stores.tokens.all()] == ["dup"]


class TestUseAsCredential:
    def test_team_token_authenticates_with_its_roles_only(self, client, deps, creator, published):
        body = client.post(
            "/tokens", data={"team": "blue", "token_id": "ci"}, headers=creator
        ).get_json()
        ident = sessions.introspect(deps, body["token"])
        assert (ident.kind, ident.name, ident.token_kind, ident.grants) == (
            "token",
            "ci",
            "team",
            (),
        )
        add_role(deps, "dep", "app", "app.deploy")
        deps.stores.tokens.add_role("ci", RoleInstance("dep", "myapp"))
        ident = sessions.introspect(deps, body["token"])
        assert [g.to_json() for g in ident.grants] == [["app.deploy", "app", "myapp"]]
        info = client.get("/tokens/ci", headers=creator).get_json()
        assert info["roles"] == [{"Name": "dep", "ContextValue": "myapp"}]
        assert info["last_access"] != "0001-01-01T00:00:00Z"

    def test_expired_team_token(self, client, deps, creator):
        body = client.post(
            "/tokens", data={"team": "blue", "expires_in": "-1"}, headers=creator
        ).get_json()
        resp = client.post(
            "/internal/introspect", json={"token": body["token"]}, headers=internal_headers()
        )
        assert (resp.status_code, resp.data) == (401, b"team token expired\n")

    def test_regenerate_and_delete_revoke(self, client, deps, creator, published, events):
        body = client.post(
            "/tokens", data={"team": "blue", "token_id": "ci"}, headers=creator
        ).get_json()
        old = body["token"]
        resp = client.put(
            "/tokens/ci", data={"regenerate": "true", "description": "new"}, headers=creator
        )
        assert resp.status_code == 200
        new = resp.get_json()["token"]
        assert new and new != old and resp.get_json()["description"] == "new"
        assert ("auth.token.revoked", {"token_hash": token_hash(old)}) in published
        with pytest.raises(sessions.UnknownToken):
            sessions.introspect(deps, old)
        assert sessions.introspect(deps, new).name == "ci"
        assert events.last().kind.name == "team.token.update"
        resp = client.put("/tokens/ci", data={"expires_in": "3600"}, headers=creator)
        assert (
            resp.get_json()["token"] == ""
            and resp.get_json()["expires_at"] != "0001-01-01T00:00:00Z"
        )
        resp = client.put("/tokens/ci", json={"expires_in": -1}, headers=creator)
        assert resp.get_json()["expires_at"] == "0001-01-01T00:00:00Z"
        assert client.delete("/tokens/ci", headers=creator).status_code == 200
        assert deps.stores.tokens.get("ci") is None
        assert published[-1] == ("auth.token.revoked", {"token_hash": token_hash(new)})
        assert events.last().kind.name == "team.token.delete"

    def test_team_token_cannot_use_user_routes(self, client, deps, creator):
        body = client.post("/tokens", data={"team": "blue"}, headers=creator).get_json()
        headers = headers_for(deps, body["token"])
        assert client.get("/users/info", headers=headers).status_code == 400
        assert client.get("/teams", headers=headers).status_code == 204


class TestListAndErrors:
    def test_list_scoped_by_team_token_read(self, client, deps, creator, login):
        deps.stores.teams.add(Team("red"))
        client.post("/tokens", data={"team": "blue", "token_id": "b1"}, headers=creator)
        admin = login("admin@example.com", ("global", ["*"], ""))
        client.post("/tokens", data={"team": "red", "token_id": "r1"}, headers=admin)
        body = client.get("/tokens", headers=creator).get_json()
        assert [t["token_id"] for t in body] == ["b1"] and body[0]["token"] == ""
        assert [t["token_id"] for t in client.get("/tokens", headers=admin).get_json()] == [
            "b1",
            "r1",
        ]
        # no team.token.read at all: nothing (tsuru 1.11 would list everything)
        resp = client.get("/tokens", headers=login("bob@example.com"))
        assert (resp.status_code, resp.data) == (204, b"")
        assert client.get("/tokens/r1", headers=creator).status_code == 403

    def test_not_found(self, client, creator):
        for method in (client.get, client.put, client.delete):
            resp = method("/tokens/nope", headers=creator)
            assert (resp.status_code, resp.data) == (404, b"team token not found\n")

    def test_permission_per_action(self, client, deps, creator, login):
        client.post("/tokens", data={"team": "blue", "token_id": "b1"}, headers=creator)
        reader = login("r@example.com", ("team", ["team.token.read"], "blue"))
        assert client.get("/tokens/b1", headers=reader).status_code == 200
        assert (
            client.put("/tokens/b1", data={"regenerate": "true"}, headers=reader).status_code == 403
        )
        assert client.delete("/tokens/b1", headers=reader).status_code == 403
        assert deps.stores.tokens.get("b1") is not None
