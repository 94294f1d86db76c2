from __future__ import annotations

import re
from datetime import timedelta

from services.auth.operations import sessions
from services.auth.tests.fakes import PASSWORD, add_user
from services.auth.tests.unit.conftest import headers_for
from shared.events import Owner
from shared.identity import token_hash


class TestChangePassword:
    def test_change(self, client, deps, login, events):
        headers = login("alice@example.com")
        data = {"old": PASSWORD, "new": "newpass1", "confirm": "newpass1"}
        resp = client.put("/users/password", data=data, headers=headers)
        assert (resp.status_code, resp.data) == (200, b"")
        assert sessions.login(deps, "alice@example.com", "newpass1")
        evt = events.last()
        assert (evt.kind.name, evt.target.value, evt.start_custom_data) == (
            "user.update.password",
            "alice@example.com",
            None,
        )
        # sessions stay valid
        assert client.get("/users/info", headers=headers).status_code == 200

    def test_errors(self, client, deps, login):
        headers = login("alice@example.com")
        cases = [
            ({"old": "", "new": "x"}, 400, "Both the old and the new passwords are required."),
            (
                {"old": PASSWORD, "new": "newpass1", "confirm": "other"},
                400,
                "New password and password confirmation didn't match.",
            ),
            (
                {"old": "wrongpass", "new": "newpass1", "confirm": "newpass1"},
                403,
                "the given password didn't match the user's current password",
            ),
            (
                {"old": PASSWORD, "new": "abc", "confirm": "abc"},
                400,
                "password length should be least 6 characters and at most 50 characters",
            ),
        ]
        for data, status, message in cases:
            resp = client.put("/users/password", data=data, headers=headers)
            assert (resp.status_code, resp.data.decode()) == (status, message + "\n")
        assert sessions.login(deps, "alice@example.com", PASSWORD)


class TestResetPassword:
    def test_two_steps(self, client, deps, mails, events):
        add_user(deps, "alice@example.com")
        resp = client.post("/users/alice@example.com/password")
        assert (resp.status_code, resp.data) == (200, b"")
        to, subject, body = mails[-1]
        assert (to, subject) == ("alice@example.com", "[tsuru] Password reset process")
        token = re.search(r"\b[0-9a-f]{64}\b", body).group(0)
        assert deps.stores.resets.get(token_hash(token)) is not None
        assert token not in str(deps.stores.resets.items)
        resp = client.post(f"/users/alice@example.com/password?token={token}")
        assert resp.status_code == 200
        to, subject, body = mails[-1]
        assert subject == "[tsuru] Password successfully reset"
        new_password = body.split("\n\n")[1].strip()
        assert len(new_password) == 12
        assert sessions.login(deps, "alice@example.com", new_password)
        assert deps.stores.resets.get(token_hash(token)).used
        evt = events.last()
        assert evt.kind.name == "user.update.reset" and evt.owner == Owner(
            "user", "alice@example.com"
        )
        assert {"name": "token", "value": "*****"} in evt.start_custom_data
        # used once only
        resp = client.post(f"/users/alice@example.com/password?token={token}")
        assert (resp.status_code, resp.data) == (403, b"Invalid token\n")

    def test_bad_tokens(self, client, deps, mails):
        add_user(deps, "alice@example.com")
        add_user(deps, "bob@example.com")
        client.post("/users/alice@example.com/password")
        token = re.search(r"[0-9a-f]{64}", mails[-1][2]).group(0)
        for email, tok in (("alice@example.com", "nope"), ("bob@example.com", token)):
            resp = client.post(f"/users/{email}/password", data={"token": tok})
            assert (resp.status_code, resp.data) == (403, b"Invalid token\n")
        now = deps.clock()
        deps.clock = lambda: now + timedelta(hours=23, minutes=59, seconds=30)
        resp = client.post("/users/alice@example.com/password", data={"token": token})
        assert resp.status_code == 403
        assert sessions.login(deps, "alice@example.com", PASSWORD)

    def test_unknown_and_invalid_email(self, client, mails):
        resp = client.post("/users/nobody@example.com/password")
        assert (resp.status_code, resp.data) == (404, b"user not found\n")
        resp = client.post("/users/bad/password")
        assert (resp.status_code, resp.data) == (400, b"invalid email\n")
        assert mails == []


class TestApiKey:
    def test_show_creates_then_shows_the_same_key(self, client, deps, login, events):
        headers = login("alice@example.com")
        resp = client.get("/users/api-key", headers=headers)
        assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
        key = resp.get_json()
        assert re.fullmatch(r"[0-9a-f]{64}", key)
        assert client.get("/users/api-key", headers=headers).get_json() == key
        user = deps.stores.users.get("alice@example.com")
        assert user.apikey_hash == token_hash(key) and key not in repr(user)
        assert events.records == []
        # the key authenticates like the user
        ident = sessions.introspect(deps, key)
        assert (ident.kind, ident.name, ident.token_kind) == ("user", "alice@example.com", "apikey")

    def test_regenerate_replaces_and_revokes(self, client, deps, login, events, published):
        headers = login("alice@example.com")
        old = client.get("/users/api-key", headers=headers).get_json()
        resp = client.post("/users/api-key", headers=headers)
        new = resp.get_json()
        assert resp.status_code == 200 and new != old
        assert client.get("/users/api-key", headers=headers).get_json() == new
        assert ("auth.token.revoked", {"token_hash": token_hash(old)}) in published
        assert events.last().kind.name == "user.update.token"
        import pytest

        with pytest.raises(sessions.UnknownToken):
            sessions.introspect(deps, old)

    def test_other_users_key(self, client, deps, login):
        add_user(deps, "bob@example.com")
        headers = login("alice@example.com", ("user", ["user.update.token"], "bob@example.com"))
        # showing another user's key needs a global grant
        assert client.get("/users/api-key?user=bob@example.com", headers=headers).status_code == 403
        assert (
            client.post("/users/api-key?user=bob@example.com", headers=headers).status_code == 200
        )
        admin = login("admin@example.com", ("global", ["user.update.token"], ""))
        assert client.get("/users/api-key?user=bob@example.com", headers=admin).status_code == 200
        resp = client.get("/users/api-key?user=nobody@example.com", headers=admin)
        assert (resp.status_code, resp.data) == (404, b"user not found\n")
        resp = client.post("/users/api-key?user=nobody@example.com", headers=admin)
        assert (resp.status_code, resp.data) == (404, b"user not found\n")

    def test_changed_secret_regenerates(self, client, deps, login):
        headers = login("alice@example.com")
        old = client.get("/users/api-key", headers=headers).get_json()
        from dataclasses import replace

        deps.config = replace(deps.config, apikey_key=b"k" * 32)
        new = client.get("/users/api-key", headers=headers).get_json()
        assert new != old
        assert sessions.introspect(deps, new).name == "alice@example.com"

    def test_team_token_is_not_a_user(self, client, deps):
        from services.auth.domain.models import TeamToken

        deps.stores.tokens.add(
            TeamToken("t1", token_hash("raw-team-token"), "blue", "a@example.com", deps.clock())
        )
        headers = headers_for(deps, "raw-team-token")
        resp = client.get("/users/api-key", headers=headers)
        assert (resp.status_code, resp.data) == (400, b"team token is not a user token\n")
