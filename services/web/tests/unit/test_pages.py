"""The dashboard's pages on a fake API: sessions, CSRF, cookies, CSP, forms."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.web.bootstrap import create_app
from services.web.tests.fakes import Answer, Call, FakeApi, fake_deps, stream_lines
from services.web.tests.routewalk import SETTINGS

TOKEN = "a" * 40
APP = {
    "name": "shop", "platform": "python", "teamowner": "blue", "teams": ["blue"], "pool": "p",
    "owner": "ana@example.com", "deploys": 1, "cname": ["www.shop.example"], "plan": {"name": "c1"},
    "routers": [{"name": "tsubame", "address": "shop.tsubame.localhost"}],
    "units": [{"ID": "shop-web-1", "ProcessName": "web", "Status": "started",
               "Address": {"Host": "127.0.0.1:4000"}, "Version": 1}],
    "serviceInstanceBinds": [],
}  # fmt: skip


@pytest.fixture
def api() -> FakeApi:
    fake = FakeApi()
    fake.on("POST /auth/login", lambda c: Answer(body={"token": TOKEN}) if c.form["password"] == ["right-pass"] else Answer(401, "Authentication failed, wrong password."))  # fmt: skip
    fake.on("GET /users/info", Answer(body={"Email": "ana@example.com", "Roles": [], "Permissions": [{"Name": "", "ContextType": "global", "ContextValue": ""}]}))  # fmt: skip
    fake.on("DELETE /users/tokens", Answer(body=None))
    fake.on("GET /apps/shop", Answer(body=APP))
    fake.on("GET /apps/shop/env", Answer(body=[
        {"name": "PUBLIC_ONE", "value": "visible-value", "public": True},
        {"name": "SECRET_ONE", "value": "hidden-value-123", "public": False}]))  # fmt: skip
    fake.on("GET /deploys", Answer(body=None))
    return fake


@pytest.fixture
def app(api: FakeApi) -> Flask:
    return create_app(SETTINGS, fake_deps(api))


def login_csrf(client: FlaskClient) -> str:
    page = client.get("/ui/login").get_data(as_text=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def signed_in(client: FlaskClient) -> str:
    """Signs in; returns the page's CSRF token for forms."""
    resp = client.post(
        "/ui/login",
        data={"csrf": login_csrf(client), "email": "ana@example.com", "password": "right-pass"},
    )
    assert resp.status_code == 303
    page = client.get("/ui/apps/shop").get_data(as_text=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_pages_need_a_session(app: Flask, api: FakeApi) -> None:
    resp = app.test_client().get("/ui/apps/shop?x=1")
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/ui/login?next=%2Fui%2Fapps%2Fshop%3Fx%3D1"
    assert api.calls == []


def test_every_answer_has_a_strict_csp(app: Flask) -> None:
    client = app.test_client()
    for path in ("/ui/login", "/ui/apps", "/ui/static/dashboard.js", "/ui/nowhere"):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


def test_sign_in_sets_an_httponly_strict_cookie_without_the_token(app: Flask, api: FakeApi) -> None:
    client = app.test_client()
    resp = client.post(
        "/ui/login", data={"csrf": login_csrf(client), "email": "ana@example.com", "password": "right-pass", "next": "/ui/teams"}
    )  # fmt: skip
    assert resp.status_code == 303 and resp.headers["Location"] == "/ui/teams"
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("tsubame_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ui" in cookie
    assert TOKEN not in cookie
    # The API saw the token; the browser never did.
    page = client.get("/ui/apps/shop").get_data(as_text=True)
    assert TOKEN not in page
    assert all(c.token == TOKEN for c in api.calls if c.path == "/apps/shop")


def test_sign_in_needs_the_forms_csrf_token(app: Flask, api: FakeApi) -> None:
    client = app.test_client()
    login_csrf(client)
    for token in ("", "forged"):
        resp = client.post(
            "/ui/login", data={"csrf": token, "email": "a@b.c", "password": "right-pass"}
        )
        assert resp.status_code == 403
    assert not [c for c in api.calls if c.path == "/auth/login"]


def test_wrong_password_shows_the_apis_message_on_the_form(app: Flask) -> None:
    client = app.test_client()
    resp = client.post("/ui/login", data={"csrf": login_csrf(client), "email": "ana@example.com", "password": "nope"})  # fmt: skip
    assert resp.status_code == 401
    assert 'data-error-for="login">Authentication failed, wrong password.' in resp.get_data(
        as_text=True
    )


def test_next_never_leaves_the_dashboard(app: Flask) -> None:
    for target in ("https://evil.example/", "//evil.example", "/ui\\..", "/apps"):
        client = app.test_client()
        resp = client.post("/ui/login", data={"csrf": login_csrf(client), "email": "ana@example.com", "password": "right-pass", "next": target})  # fmt: skip
        assert resp.headers["Location"] == "/ui/apps"


def test_forms_without_the_sessions_csrf_token_do_nothing(app: Flask, api: FakeApi) -> None:
    client = app.test_client()
    signed_in(client)
    before = len(api.calls)
    for data in ({}, {"csrf": "forged"}):
        resp = client.post("/ui/apps/shop/env/set", data={**data, "name": "A", "value": "1"})
        assert resp.status_code == 403
    assert len(api.calls) == before


def test_private_env_values_never_reach_the_page(app: Flask) -> None:
    client = app.test_client()
    signed_in(client)
    page = client.get("/ui/apps/shop").get_data(as_text=True)
    assert "visible-value" in page and "SECRET_ONE" in page
    assert "hidden-value-123" not in page
    assert 'href="http://shop.tsubame.localhost"' in page


def test_service_variables_and_the_running_version_offer_no_action(
    app: Flask, api: FakeApi
) -> None:
    merged = [
        {"name": "OWN", "value": "1", "public": True},
        {"name": "DB_HOST", "value": "10.0.0.1", "public": False},
        {"name": "TSURU_SERVICES", "value": "{}", "public": False},
    ]
    # With ``env`` named, tsuru looks up the app's own variables only.
    api.on("GET /apps/shop/env", lambda c: Answer(body=(
        [v for v in merged if v["name"] == "OWN"] if c.query.get("env") else merged)))  # fmt: skip
    deploys = [
        {"ID": "e2", "Version": 1, "Image": "tsubame/app-shop:v1", "CanRollback": True},
        {"ID": "e1", "Version": 2, "Image": "tsubame/app-shop:v2", "CanRollback": True},
    ]
    api.on("GET /deploys", Answer(body=deploys))
    client = app.test_client()
    signed_in(client)
    page = client.get("/ui/apps/shop").get_data(as_text=True)
    env_call = [c for c in api.calls if c.path == "/apps/shop/env" and c.query.get("env")][-1]
    assert env_call.query["env"] == ["DB_HOST", "OWN"]
    own, service = (
        re.search(f'<tr data-env="{n}">.*?</tr>', page, re.S) for n in ("OWN", "DB_HOST")
    )
    assert own and "unset" in own.group(0)
    assert (
        service and "unset" not in service.group(0) and "from a bound service" in service.group(0)
    )
    # The units run v1: a rollback (or a removal) is offered to v2 only.
    assert 'data-version="2"' in page and 'data-version="1"' not in page
    assert 'data-remove-version="2"' in page and 'data-remove-version="1"' not in page


def test_a_stored_version_is_removed_from_the_app_page(app: Flask, api: FakeApi) -> None:
    seen: list[Call] = []

    def remove(call: Call) -> Answer:
        seen.append(call)
        return stream_lines(" ---> Deleting version 2 of app shop\n")

    api.on("DELETE /apps/shop/versions/2", remove)
    client = app.test_client()
    csrf = signed_in(client)
    resp = client.post("/ui/apps/shop/versions/remove", data={"csrf": csrf, "version": "x/../1"})
    assert resp.status_code == 400 and not seen
    page = client.post("/ui/apps/shop/versions/remove", data={"csrf": csrf, "version": "2"})
    assert 'data-outcome="ok"' in page.get_data(as_text=True) and len(seen) == 1


def test_operations_stream_into_a_live_page(app: Flask, api: FakeApi) -> None:
    seen: list[Call] = []

    def env_set(call: Call) -> Answer:
        seen.append(call)
        return stream_lines("---- Setting 1 new environment variables ----\n", "<restarting>\n")

    api.on("POST /apps/shop/env", env_set)
    client = app.test_client()
    csrf = signed_in(client)
    resp = client.post("/ui/apps/shop/env/set", data={"csrf": csrf, "name": "GREETING", "value": "hi", "restart": "true"})  # fmt: skip
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "&lt;restarting&gt;" in page and 'data-outcome="ok"' in page
    assert seen[0].form["Envs.0.Name"] == ["GREETING"] and seen[0].form["NoRestart"] == ["false"]


def test_an_error_after_output_ends_the_page_failed(app: Flask, api: FakeApi) -> None:
    api.on("POST /apps/shop/restart", stream_lines("restarting\n", error="unit crashed"))
    client = app.test_client()
    csrf = signed_in(client)
    page = client.post("/ui/apps/shop/process", data={"csrf": csrf, "action": "restart"}).get_data(as_text=True)  # fmt: skip
    assert 'data-outcome="failed"' in page and "unit crashed" in page


def test_the_apis_refusal_shows_next_to_the_form_with_its_status(app: Flask, api: FakeApi) -> None:
    api.on("PUT /apps/shop/units", Answer(400, "Invalid number of units: the number must be an integer greater than 0."))  # fmt: skip
    client = app.test_client()
    csrf = signed_in(client)
    resp = client.post("/ui/apps/shop/units", data={"csrf": csrf, "units": "-1", "change": "add"})
    assert resp.status_code == 400
    assert 'data-error-for="units">Invalid number of units' in resp.get_data(as_text=True)


def test_a_revoked_token_ends_the_session(app: Flask, api: FakeApi) -> None:
    client = app.test_client()
    signed_in(client)
    api.on("GET /apps/shop", Answer(401, "You must provide a valid Authorization header"))
    resp = client.get("/ui/apps/shop")
    assert resp.status_code == 303 and resp.headers["Location"] == "/ui/login"
    assert client.get("/ui/apps").status_code == 303  # the session is gone


def test_sign_out_revokes_the_token_and_the_session(app: Flask, api: FakeApi) -> None:
    client = app.test_client()
    csrf = signed_in(client)
    resp = client.post("/ui/logout", data={"csrf": csrf})
    assert resp.status_code == 303
    assert [c.token for c in api.calls if c.method == "DELETE" and c.path == "/users/tokens"] == [
        TOKEN
    ]
    assert client.get("/ui/apps/shop").status_code == 303


def test_removal_needs_the_apps_name_typed(app: Flask, api: FakeApi) -> None:
    api.on("DELETE /apps/shop", stream_lines("removing\n"))
    client = app.test_client()
    csrf = signed_in(client)
    resp = client.post("/ui/apps/shop/remove", data={"csrf": csrf, "confirm": "shp"})
    assert resp.status_code == 400
    assert not [c for c in api.calls if c.method == "DELETE" and c.path == "/apps/shop"]
    page = client.post("/ui/apps/shop/remove", data={"csrf": csrf, "confirm": "shop"}).get_data(as_text=True)  # fmt: skip
    assert 'data-outcome="ok"' in page


def test_assets_are_only_the_listed_files(app: Flask) -> None:
    client = app.test_client()
    assert (
        client.get("/ui/static/dashboard.js").headers["Content-Type"].startswith("text/javascript")
    )
    for name in ("..%2Fbootstrap.py", "nothing.js", "dashboard.html"):
        assert client.get(f"/ui/static/{name}").status_code == 404


def test_a_log_follow_answers_at_once_then_relays_new_lines(app: Flask, api: FakeApi) -> None:
    entry = {"Date": "2026-01-01T00:00:00Z", "Message": "GET / 200", "Source": "web", "Unit": "u1"}
    follows: list[Call] = []

    def follow(call: Call) -> Answer:
        follows.append(call)
        return Answer(
            200, [b"\n", json.dumps([entry]).encode() + b"\n"], "application/x-json-stream"
        )

    api.on("GET /apps/shop/log", follow)
    client = app.test_client()
    signed_in(client)
    resp = client.get(
        "/ui/apps/shop/log/follow", headers={"X-Requested-With": "dashboard"}, buffered=False
    )
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    chunks = iter(resp.response)
    # The head and a blank first piece leave before any line: the page shows it follows.
    assert next(chunks) in (b"\n", "\n")
    rest = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    resp.close()
    assert rest.decode().strip() == "2026-01-01T00:00:00Z [web][u1]: GET / 200"
    assert follows[0].query["follow"] == ["1"] and follows[0].query["lines"] == ["-1"]
