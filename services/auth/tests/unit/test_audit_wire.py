"""Wire details found by the auth audit against auth.md / permissions.md."""

from __future__ import annotations

import pytest

from services.auth.tests.fakes import add_role, add_user


class TestEmailAndIdPatterns:
    """Go's ``$`` matches only at the end of the text; Python's also before a final
    newline, so ``re.match`` let ``"a@b.com\\n"`` through."""

    def test_email_with_trailing_newline_is_invalid(self, client, deps, admin):
        resp = client.post(
            "/users", data={"email": "new@example.com\n", "password": "abcdef"}, headers=admin
        )
        assert (resp.status_code, resp.data) == (400, b"invalid email\n")
        assert deps.stores.users.get("new@example.com\n") is None

    def test_login_with_trailing_newline_is_invalid(self, client, deps):
        add_user(deps, "alice@example.com")
        resp = client.post(
            "/auth/login", data={"email": "alice@example.com\n", "password": "secret123"}
        )
        assert (resp.status_code, resp.data) == (400, b"invalid email\n")

    def test_email_whitespace_is_go_whitespace(self, client, admin):
        # Go's \s is [\t\n\f\r ]: a vertical tab or no-break space is an ordinary
        # character of the local part.
        for email in ("a\vb@example.com", "a\u00a0b@example.com"):
            resp = client.post("/users", data={"email": email, "password": "abcdef"}, headers=admin)
            assert resp.status_code == 201, email

    def test_token_id_with_trailing_newline_is_invalid(self, client, deps, admin):
        client.post("/teams", data={"name": "blue"}, headers=admin)
        resp = client.post("/tokens", data={"team": "blue", "token_id": "abc\n"}, headers=admin)
        assert (resp.status_code, resp.data) == (400, b"invalid token_id\n")
        assert deps.stores.tokens.get("abc\n") is None


class TestLimits:
    """``strconv.Atoi``: optional sign, ASCII digits, int64 range; nothing else."""

    @pytest.mark.parametrize("raw", ["99999999999999999999", "1_0", " 5", "5 ", "\u0665", "0x5"])
    def test_user_quota_rejects_what_atoi_rejects(self, client, deps, admin, raw):
        add_user(deps, "alice@example.com")
        resp = client.put("/users/alice@example.com/quota", data={"limit": raw}, headers=admin)
        assert (resp.status_code, resp.data) == (400, b"Invalid limit\n")

    def test_user_quota_accepts_plus_sign_and_int64(self, client, deps, admin):
        add_user(deps, "alice@example.com")
        for raw, want in (("+5", 5), ("9223372036854775807", 9223372036854775807)):
            resp = client.put("/users/alice@example.com/quota", data={"limit": raw}, headers=admin)
            assert resp.status_code == 200
            assert deps.stores.users.get("alice@example.com").quota.limit == want

    def test_team_quota_rejects_out_of_range(self, client, admin):
        client.post("/teams", data={"name": "blue"}, headers=admin)
        resp = client.put("/teams/blue/quota", data={"limit": "9223372036854775808"}, headers=admin)
        assert (resp.status_code, resp.data) == (400, b"Invalid limit\n")


class TestExpiresIn:
    @pytest.fixture
    def team(self, client, admin):
        client.post("/teams", data={"name": "blue"}, headers=admin)
        return "blue"

    @pytest.mark.parametrize("raw", ["99999999999999999999", "9223372037", "-9223372037", " 5"])
    def test_create_rejects_unrepresentable_form_values(self, client, admin, team, raw):
        resp = client.post("/tokens", data={"team": team, "expires_in": raw}, headers=admin)
        assert resp.status_code == 400
        assert resp.data.startswith(b"unable to decode form: expires_in")

    @pytest.mark.parametrize("value", [1.5, 1.0, 10**20, True])
    def test_create_rejects_non_integer_json(self, client, admin, team, value):
        resp = client.post("/tokens", json={"team": team, "expires_in": value}, headers=admin)
        assert resp.status_code == 400
        assert resp.data.startswith(b"unable to parse as json")

    def test_largest_duration_is_accepted(self, client, admin, team):
        resp = client.post(
            "/tokens", data={"team": team, "expires_in": "9223372036"}, headers=admin
        )
        assert resp.status_code == 201
        resp = client.post("/tokens", json={"team": team, "expires_in": -5}, headers=admin)
        assert resp.status_code == 201

    def test_update_rejects_out_of_range(self, client, admin, team):
        resp = client.post("/tokens", data={"team": team, "token_id": "tk"}, headers=admin)
        assert resp.status_code == 201
        resp = client.put("/tokens/tk", data={"expires_in": "99999999999999999999"}, headers=admin)
        assert resp.status_code == 400
        assert resp.data.startswith(b"unable to decode form: expires_in")


class TestEmptyRoleLists:
    """Go encodes the nil slice read from an empty collection as ``null``."""

    def test_default_roles_none(self, client, admin):
        resp = client.get("/role/default", headers=admin)
        assert (resp.status_code, resp.data) == (200, b"null\n")
        assert resp.content_type == "application/json"


class TestCanUseRoleMessage:
    """``Permission.String()``: ``name(type)`` plus `` value`` only when non-empty."""

    def test_global_role_with_a_value(self, client, deps, login):
        add_role(deps, "ops", "global", "app.create")
        add_user(deps, "bob@example.com")
        headers = login("boss@example.com", ("global", ["role.update.assign"], ""))
        resp = client.post(
            "/roles/ops/user",
            data={"email": "bob@example.com", "context": "x"},
            headers=headers,
        )
        assert resp.status_code == 403
        assert resp.data == b"User not authorized to use permission app.create(global x)\n"

    def test_team_role_without_a_value(self, client, deps, login):
        add_role(deps, "dev", "team", "app.create")
        add_user(deps, "bob@example.com")
        headers = login("boss@example.com", ("global", ["role.update.assign"], ""))
        resp = client.post("/roles/dev/user", data={"email": "bob@example.com"}, headers=headers)
        assert resp.status_code == 403
        assert resp.data == b"User not authorized to use permission app.create(team)\n"


class TestRenameRoleName:
    """The new name follows POST /roles' rules: trimmed, blank refused."""

    def test_new_name_is_trimmed(self, client, deps, admin):
        add_role(deps, "dev", "team", "app.read")
        resp = client.put("/roles", data={"name": "dev", "newName": " ops "}, headers=admin)
        assert resp.status_code == 200
        assert deps.stores.roles.get("ops") is not None
        assert deps.stores.roles.get(" ops ") is None and deps.stores.roles.get("dev") is None

    def test_blank_new_name_is_invalid(self, client, deps, admin, events):
        add_role(deps, "dev", "team", "app.read")
        resp = client.put("/roles", data={"name": "dev", "newName": "   "}, headers=admin)
        assert (resp.status_code, resp.data) == (400, b"invalid role name\n")
        assert all(r.name.strip() for r in deps.stores.roles.all())
        assert (
            events.last().kind.name == "role.update" and events.last().error == "invalid role name"
        )


def test_new_user_quota_below_minus_one_is_unlimited(env, tmp_path):
    from services.auth.bootstrap import config_from
    from services.auth.settings import AuthSettings

    cfg = config_from(AuthSettings.from_env({**env, "TSUBAME_QUOTA_APPS_PER_USER": "-5"}))
    assert cfg.user_quota == -1
    cfg = config_from(AuthSettings.from_env({**env, "TSUBAME_QUOTA_APPS_PER_USER": "3"}))
    assert cfg.user_quota == 3


def _team_token_headers(deps, *grants):
    """Gateway headers for a team token holding ``(ctx, [perms], value)`` roles."""
    from services.auth.domain.models import RoleInstance, TeamToken
    from services.auth.domain.secrets import token_hash
    from services.auth.tests.unit.conftest import headers_for

    if deps.stores.teams.get("blue") is None:
        from services.auth.domain.models import Team

        deps.stores.teams.add(Team("blue", "a@example.com"))
    roles = []
    for i, (ctx, perms, value) in enumerate(grants):
        add_role(deps, f"tokrole{i}", ctx, *perms)
        roles.append(RoleInstance(f"tokrole{i}", value))
    token = TeamToken("tok", token_hash("raw-team"), "blue", "a@example.com", deps.clock())
    token.roles = roles
    deps.stores.tokens.add(token)
    return headers_for(deps, "raw-team")


class TestCheckOrder:
    def test_create_team_checks_permission_before_decoding(self, client, login):
        headers = login("alice@example.com")
        resp = client.post(
            "/teams", data="{broken", headers={**headers, "Content-Type": "application/json"}
        )
        assert (resp.status_code, resp.data) == (
            403,
            b"You don't have permission to do this action\n",
        )


class TestListUsersTeamToken:
    """tsuru needs the caller's user only when nothing else is listed."""

    def test_team_token_with_user_update_lists_users(self, client, deps):
        add_user(deps, "alice@example.com")
        headers = _team_token_headers(deps, ("global", ["user.update"], ""))
        resp = client.get("/users", headers=headers)
        assert resp.status_code == 200
        assert [u["Email"] for u in resp.get_json()] == ["alice@example.com"]

    def test_team_token_with_nothing_to_list_is_not_a_user(self, client, deps):
        add_user(deps, "alice@example.com")
        headers = _team_token_headers(deps)
        resp = client.get("/users", headers=headers)
        assert (resp.status_code, resp.data) == (400, b"team token is not a user token\n")


class TestQueryOnlyInputs:
    """tsuru reads these with r.URL.Query(): a body field is ignored."""

    def test_regenerate_apikey_ignores_body_user(self, client, deps, login):
        add_user(deps, "bob@example.com")
        headers = login("alice@example.com", ("global", ["user.update.token"], ""))
        resp = client.post("/users/api-key", data={"user": "bob@example.com"}, headers=headers)
        assert resp.status_code == 200
        assert deps.stores.users.get("bob@example.com").apikey_hash == ""
        assert deps.stores.users.get("alice@example.com").apikey_hash != ""

    def test_remove_user_ignores_json_body_user(self, client, deps, login):
        add_user(deps, "bob@example.com")
        headers = login("alice@example.com", ("global", ["user.delete"], ""))
        resp = client.delete("/users", json={"user": "bob@example.com"}, headers=headers)
        assert resp.status_code == 200
        assert deps.stores.users.get("bob@example.com") is not None
        assert deps.stores.users.get("alice@example.com") is None

    def test_list_users_filter_is_query_only(self, client, deps, admin):
        add_user(deps, "bob@example.com")
        resp = client.get("/users", json={"userEmail": "bob@example.com"}, headers=admin)
        assert resp.status_code == 200
        assert len(resp.get_json()) == 2


def test_legacy_login_empty_email_field_overrides_path(client, deps):
    add_user(deps, "alice@example.com")
    resp = client.post(
        "/users/alice@example.com/tokens", data={"email": "", "password": "secret123"}
    )
    assert (resp.status_code, resp.data) == (400, b"invalid email\n")
    resp = client.post("/users/alice@example.com/tokens", data={"password": "secret123"})
    assert resp.status_code == 200
