"""What the apps context asks of auth: app tokens and app quota (docs/runtime.md)."""

from __future__ import annotations

from services.auth.domain.models import Team
from services.auth.tests.fakes import add_user
from services.auth.tests.unit.conftest import SECRET
from shared.bus import keys
from shared.identity import Grant, internal_identity, token_hash
from shared.testing.identity import pending

APP_PERMS = {"app.update.unit.register", "app.update.log", "app.update.unit.status",
             "app.read.deploy", "app.read.log"}  # fmt: skip


def internal() -> dict[str, str]:
    return pending(internal_identity("apps"), SECRET.encode())


def issue(client, app: str):  # type: ignore[no-untyped-def]
    return client.post("/internal/app-tokens", json={"app": app}, headers=internal())


def test_app_token_is_stable_hashed_and_introspects_to_the_fixed_grants(client, deps):
    first = issue(client, "shop")
    assert first.status_code == 200
    token = first.get_json()["token"]
    assert issue(client, "shop").get_json()["token"] == token
    assert issue(client, "other").get_json()["token"] != token
    stored = deps.stores.app_tokens.get("shop")
    assert stored.token_hash == token_hash(token) and token not in repr(stored)
    resp = client.post("/internal/introspect", json={"token": token}, headers=internal())
    assert resp.status_code == 200
    ident = resp.get_json()
    assert (ident["kind"], ident["name"], ident["token_kind"]) == ("app", "shop", "app")
    assert {tuple(g) for g in ident["grants"]} == {(p, "app", "shop") for p in APP_PERMS}
    assert ident["expires"] is None
    grants = client.post(
        "/internal/grants", json={"kind": "app", "name": "shop"}, headers=internal()
    )
    assert {tuple(g) for g in grants.get_json()["grants"]} == {
        tuple(Grant(p, "app", "shop").to_json()) for p in APP_PERMS
    }


def test_revoked_app_token_stops_working_and_is_announced(client, deps, published):
    token = issue(client, "shop").get_json()["token"]
    assert client.delete("/internal/app-tokens/shop", headers=internal()).status_code == 200
    assert (keys.TOKEN_REVOKED, {"token_hash": token_hash(token)}) in published
    resp = client.post("/internal/introspect", json={"token": token}, headers=internal())
    assert resp.status_code == 401
    assert client.delete("/internal/app-tokens/shop", headers=internal()).status_code == 200
    again = issue(client, "shop").get_json()["token"]
    assert again != token  # a new app of the same name gets a new token


def test_app_token_routes_refuse_users_and_bad_input(client, admin):
    assert client.post("/internal/app-tokens", json={"app": "x"}, headers=admin).status_code == 401
    assert issue(client, "").status_code == 400
    resp = client.post("/internal/app-tokens", json={"app": 3}, headers=internal())
    assert resp.status_code == 400


def test_quota_reserve_counts_user_and_team_and_refuses_at_the_limit(client, deps):
    add_user(deps, "alice@example.com")
    deps.stores.teams.add(Team("blue"))
    deps.stores.users.set_quota_limit("alice@example.com", 1)
    body = {"user": "alice@example.com", "team": "blue"}
    ok = client.post("/internal/quota/apps/reserve", json=body, headers=internal())
    assert ok.status_code == 200
    refused = client.post("/internal/quota/apps/reserve", json=body, headers=internal())
    assert (refused.status_code, refused.text) == (409, "Quota exceeded\n")
    assert deps.stores.teams.get("blue").quota.inuse == 1
    deps.stores.users.set_quota_limit("alice@example.com", 5)
    deps.stores.teams.set_quota_limit("blue", 1)
    refused = client.post("/internal/quota/apps/reserve", json=body, headers=internal())
    assert refused.status_code == 409
    # The team refused: the user's reservation was given back.
    assert deps.stores.users.get("alice@example.com").quota.inuse == 1
    client.post("/internal/quota/apps/release", json=body, headers=internal())
    assert deps.stores.users.get("alice@example.com").quota.inuse == 0
    assert deps.stores.teams.get("blue").quota.inuse == 0
