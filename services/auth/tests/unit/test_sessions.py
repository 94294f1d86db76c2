from __future__ import annotations

from datetime import timedelta

import pytest

from services.auth.operations import sessions
from services.auth.tests.fakes import PASSWORD, add_user
from services.auth.tests.unit.conftest import SECRET
from shared.identity import internal_identity, token_hash
from shared.testing.identity import pending


def internal_headers() -> dict[str, str]:
    return pending(internal_identity("gateway"), SECRET.encode())


def test_login_returns_a_session_token_stored_as_hash(client, deps):
    add_user(deps, "alice@example.com")
    resp = client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD})
    assert resp.status_code == 200
    token = resp.get_json()["token"]
    assert len(token) == 64
    assert resp.data.endswith(b"\n")
    stored = deps.stores.sessions.get(token_hash(token))
    assert stored is not None and stored.email == "alice@example.com"
    assert stored.expires - stored.created == timedelta(days=7)
    assert token not in str(deps.stores.sessions.items)  # type: ignore[attr-defined]


def test_legacy_login_and_json_body(client, deps):
    add_user(deps, "alice@example.com")
    resp = client.post("/users/alice@example.com/tokens", json={"password": PASSWORD})
    assert resp.status_code == 200 and "token" in resp.get_json()


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"email": "alice@example.com"}, 400, "you must provide a password to login"),
        ({"email": "bad", "password": PASSWORD}, 400, "invalid email"),
        ({"password": PASSWORD}, 400, "invalid email"),
        ({"email": "nobody@example.com", "password": PASSWORD}, 404, "user not found"),
        (
            {"email": "alice@example.com", "password": "abc"},
            400,
            "Password length should be least 6 characters and at most 50 characters.",
        ),
        (
            {"email": "alice@example.com", "password": "wrongpass"},
            401,
            "Authentication failed, wrong password.",
        ),
    ],
)
def test_login_errors(client, deps, data, status, message):
    add_user(deps, "alice@example.com")
    resp = client.post("/auth/login", data=data)
    assert (resp.status_code, resp.data.decode()) == (status, message + "\n")
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert deps.stores.sessions.items == {}  # type: ignore[attr-defined]


def test_logout_deletes_only_that_token_and_announces_it(client, deps, login, published):
    headers = login("alice@example.com")
    other = sessions.login(deps, "alice@example.com", PASSWORD)
    resp = client.delete("/users/tokens", headers=headers)
    assert resp.status_code == 200 and resp.data == b""
    assert deps.stores.sessions.get(token_hash(other)) is not None
    assert len(deps.stores.sessions.items) == 1  # type: ignore[attr-defined]
    assert published[-1][0] == "auth.token.revoked"
    assert published[-1][1]["token_hash"] not in deps.stores.sessions.items  # type: ignore[attr-defined]


def test_logout_needs_a_token(client):
    resp = client.delete("/users/tokens")
    assert resp.status_code == 401
    assert resp.data == b"You must provide a valid Authorization header\n"


def test_auth_scheme_and_saml(client):
    resp = client.get("/auth/scheme")
    assert resp.status_code == 200 and resp.get_json() == {"name": "native", "data": None}
    assert resp.headers["Content-Type"] == "application/json"
    for method in (client.get, client.post):
        resp = method("/auth/saml")
        assert resp.status_code == 400
        assert resp.data == b"This URL is only supported with saml enabled\n"


def test_forged_identity_header_is_refused(client, deps):
    add_user(deps, "alice@example.com")
    identity = sessions.introspect(deps, sessions.login(deps, "alice@example.com", PASSWORD))
    resp = client.get("/users/info", headers=pending(identity, b"another-secret-0123456789"))
    assert resp.status_code == 401


class TestIntrospect:
    def test_session_token(self, client, deps):
        add_user(deps, "alice@example.com")
        raw = sessions.login(deps, "alice@example.com", PASSWORD)
        resp = client.post("/internal/introspect", json={"token": raw}, headers=internal_headers())
        assert resp.status_code == 200
        body = resp.get_json()
        assert body["kind"] == "user" and body["name"] == "alice@example.com"
        assert body["token_kind"] == "session" and body["token_hash"] == token_hash(raw)
        assert ["user", "user", "alice@example.com"] in body["grants"]

    def test_unknown_and_expired_tokens_are_anonymous(self, client, deps):
        add_user(deps, "alice@example.com")
        raw = sessions.login(deps, "alice@example.com", PASSWORD)
        for token in ("nope", ""):
            resp = client.post(
                "/internal/introspect", json={"token": token}, headers=internal_headers()
            )
            assert (resp.status_code, resp.data) == (401, b"")
        now = deps.clock()
        deps.clock = lambda: now + timedelta(days=8)
        resp = client.post("/internal/introspect", json={"token": raw}, headers=internal_headers())
        assert (resp.status_code, resp.data) == (401, b"")

    def test_needs_an_internal_identity(self, client, deps, login):
        headers = login("alice@example.com")
        resp = client.post("/internal/introspect", json={"token": "x"}, headers=headers)
        assert resp.status_code == 401
        assert client.post("/internal/introspect", json={"token": "x"}).status_code == 401
        assert client.get("/internal/teams", headers=headers).status_code == 401

    def test_internal_team_names(self, client, deps):
        from services.auth.domain.models import Team

        deps.stores.teams.add(Team("blue"))
        resp = client.get("/internal/teams", headers=internal_headers())
        assert resp.status_code == 200 and resp.get_json() == ["blue"]

    def test_introspection_names_the_credential_expiry(self, client, deps):
        add_user(deps, "alice@example.com")
        raw = sessions.login(deps, "alice@example.com", PASSWORD)
        session = deps.stores.sessions.get(token_hash(raw))
        resp = client.post("/internal/introspect", json={"token": raw}, headers=internal_headers())
        assert resp.get_json()["expires"] == session.expires.timestamp()


class TestGrantsLookup:
    """``POST /internal/grants``: grants of a subject whose header named only a digest."""

    def test_user_grants(self, client, deps, login):
        login("bob@example.com", ("team", ["app.read", "app.deploy"], "blue"))
        resp = client.post(
            "/internal/grants",
            json={"kind": "user", "name": "bob@example.com"},
            headers=internal_headers(),
        )
        assert resp.status_code == 200
        grants = resp.get_json()["grants"]
        assert ["user", "user", "bob@example.com"] in grants
        assert ["app.read", "team", "blue"] in grants

    def test_team_token_grants(self, client, deps):
        from services.auth.domain.models import ZERO_TIME, RoleInstance, Team, TeamToken
        from services.auth.tests.fakes import add_role

        add_user(deps, "alice@example.com")
        deps.stores.teams.add(Team("blue"))
        add_role(deps, "reader", "team", "app.read")
        deps.stores.tokens.add(
            TeamToken(
                token_id="ci",
                token_hash="h" * 64,
                team="blue",
                creator_email="alice@example.com",
                created_at=deps.clock(),
                expires_at=ZERO_TIME,
                roles=[RoleInstance("reader", "blue")],
            )
        )
        resp = client.post(
            "/internal/grants", json={"kind": "token", "name": "ci"}, headers=internal_headers()
        )
        assert resp.get_json() == {"grants": [["app.read", "team", "blue"]]}

    @pytest.mark.parametrize(
        "body", [{"kind": "user", "name": "ghost@example.com"}, {"kind": "app", "name": "x"}, {}]
    )
    def test_unknown_subject_is_404(self, client, body):
        resp = client.post("/internal/grants", json=body, headers=internal_headers())
        assert resp.status_code == 404

    def test_needs_an_internal_identity(self, client, login):
        headers = login("alice@example.com")
        body = {"kind": "user", "name": "alice@example.com"}
        assert client.post("/internal/grants", json=body, headers=headers).status_code == 401


def test_big_grant_sets_resolve_inside_the_auth_service(client, deps, login):
    # 72 permissions on 15 teams: the header carries a digest, the service its storage.
    from shared.permissions import tree

    perms = sorted(n for n in tree() if n.startswith("app."))[:72]
    assert len(perms) == 72
    teams = [f"t{i:02d}" for i in range(15)]
    headers = login("many@example.com", *[("team", perms, t) for t in teams])
    resp = client.get("/users/info", headers=headers)
    assert resp.status_code == 200
    assert len(resp.get_json()["Permissions"]) == 72 * 15
