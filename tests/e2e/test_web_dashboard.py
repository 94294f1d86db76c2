"""The dashboard in a real browser, through the gateway: signing in and out, the
session cookie, CSRF and CSP rules, and the pages of teams, tokens, events and admins."""

from __future__ import annotations

import http.server
import secrets
import threading
from collections.abc import Iterator

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import PASSWORD, MakeUser
from tests.e2e.web_browser import Dashboard

pytestmark = pytest.mark.e2e


def test_a_browser_at_the_root_is_offered_the_dashboard(dashboard: Dashboard, stack: Stack) -> None:
    dashboard.open("/")
    assert dashboard.path() == "/ui/login?next=%2Fui%2Fapps"
    # API clients keep tsuru's index page.
    resp = requests.get(stack.url + "/", timeout=10)
    assert resp.status_code == 200 and "Welcome to tsuru!" in resp.text


def test_sign_in_shows_the_apis_error_then_signs_in_and_out(
    dashboard: Dashboard, admin_credentials: tuple[str, str]
) -> None:
    email, password = admin_credentials
    dashboard.sign_in(email, "wrong-password")
    assert dashboard.text('[data-error-for="login"]') == "Authentication failed, wrong password."
    dashboard.sign_in("nobody@example.com", "whatever-pass")
    assert dashboard.text('[data-error-for="login"]') == "user not found"

    dashboard.sign_in(email, password)
    assert dashboard.path() == "/ui/apps"
    assert dashboard.text("#account") == email
    dashboard.submit("#sign-out")
    assert dashboard.path().startswith("/ui/login")
    assert dashboard.text("#notice") == "You are signed out."
    dashboard.open("/ui/teams")
    assert dashboard.path() == "/ui/login?next=%2Fui%2Fteams"


def test_the_session_cookie_is_httponly_strict_and_holds_no_token(
    dashboard: Dashboard, admin_credentials: tuple[str, str], stack: Stack
) -> None:
    dashboard.sign_in(*admin_credentials)
    cookies = {c["name"]: c for c in dashboard.driver.get_cookies()}
    session = cookies["tsubame_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert session["path"] == "/ui"
    # Page scripts cannot read it.
    assert "tsubame_session" not in dashboard.driver.execute_script("return document.cookie")
    # It is a reference, not a token: the API refuses it as one.
    resp = requests.get(
        stack.url + "/users/info",
        headers={"Authorization": f"bearer {session['value']}"},
        timeout=10,
    )
    assert resp.status_code == 401


class _ForgingSite:
    """Another origin on this machine whose page posts a form to the dashboard."""

    def __init__(self, target: str) -> None:
        page = (
            "<!DOCTYPE html><html><body><form id='f' method='post' action='" + target + "'>"
            "<input name='name' value='forged-team'></form>"
            "<button id='go' onclick=\"document.getElementById('f').submit()\">go</button>"
            "</body></html>"
        ).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def forging_site(stack: Stack) -> Iterator[_ForgingSite]:
    site = _ForgingSite(stack.url + "/ui/teams")
    yield site
    site.close()


def test_a_form_posted_from_another_site_changes_nothing(
    dashboard: Dashboard,
    admin_credentials: tuple[str, str],
    admin_token: str,
    stack: Stack,
    forging_site: _ForgingSite,
) -> None:
    dashboard.sign_in(*admin_credentials)
    dashboard.open(forging_site.url)
    dashboard.submit("#go")
    # SameSite=Strict: the cookie does not travel, so the dashboard asks to sign in.
    assert dashboard.path().startswith("/ui/login")
    # And even with the cookie, a form without the page's CSRF token is refused.
    cookie = next(c for c in dashboard.driver.get_cookies() if c["name"] == "tsubame_session")
    resp = requests.post(
        stack.url + "/ui/teams",
        data={"name": "forged-team"},
        cookies={"tsubame_session": cookie["value"]},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 403
    teams = requests.get(
        stack.url + "/teams", headers={"Authorization": f"bearer {admin_token}"}, timeout=10
    )
    assert "forged-team" not in teams.text


def test_pages_carry_a_strict_csp_that_blocks_injected_scripts(
    dashboard: Dashboard, admin_credentials: tuple[str, str], stack: Stack
) -> None:
    dashboard.sign_in(*admin_credentials)
    resp = requests.get(stack.url + "/ui/login", timeout=10)
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    # An inline script slipped into the page (as an injection would) does not run.
    ran = dashboard.driver.execute_script(
        "window.__injected = false;"
        "var s = document.createElement('script');"
        "s.textContent = 'window.__injected = true';"
        "document.body.appendChild(s);"
        "return window.__injected;"
    )
    assert ran is False
    # The dashboard's own script (same origin) does run: the follow button works on it.
    assert dashboard.driver.execute_script("return typeof fetch") == "function"


def test_teams_members_roles_tokens_and_events(
    dashboard: Dashboard,
    admin_credentials: tuple[str, str],
    admin_token: str,
    make_user: MakeUser,
    stack: Stack,
) -> None:
    email, _ = make_user()
    role = "web-member-" + secrets.token_hex(3)
    resp = requests.post(
        stack.url + "/roles",
        data={"name": role, "context": "team"},
        headers={"Authorization": f"bearer {admin_token}"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    dashboard.sign_in(*admin_credentials)
    team = "web-" + secrets.token_hex(3)

    dashboard.open("/ui/teams")
    dashboard.fill("#team-form", name="Bad Name!")
    dashboard.submit("#create-team")
    assert "Invalid team name" in dashboard.text('[data-error-for="team"]')
    dashboard.fill("#team-form", name=team)
    dashboard.submit("#create-team")
    assert dashboard.path() == f"/ui/teams/{team}"
    assert dashboard.text("#notice") == f"Team {team} created."

    # A member: a user holding a team role here (the API's role assignment).
    dashboard.fill("#member-form", email=email, role=role)
    dashboard.submit('#member-form button[type="submit"]')
    assert email in dashboard.text("#members") and role in dashboard.text("#members")

    dashboard.open("/ui/account")
    assert "AllowAll" in dashboard.text("#roles")

    dashboard.open("/ui/tokens")
    dashboard.fill("#token-form", team=team, description="ci from the browser")
    dashboard.submit("#create-token")
    value = dashboard.text("#new-token pre")
    assert len(value) == 64
    dashboard.open("/ui/tokens")
    assert "ci from the browser" in dashboard.text("#tokens") and value not in dashboard.text()

    dashboard.open(f"/ui/events?kind=team.create&target_value={team}")
    rows = dashboard.all("#events tbody tr")
    assert len(rows) == 1 and "team.create" in rows[0].text
    rows[0].find_element("css selector", "a").click()
    dashboard.wait_for("#event-log")
    assert team in dashboard.text("h1")


def test_admin_pages_list_pools_plans_platforms_and_nodes(
    dashboard: Dashboard, admin_credentials: tuple[str, str]
) -> None:
    dashboard.sign_in(*admin_credentials)
    dashboard.open("/ui/admin/pools")
    assert "theonepool" in dashboard.text("#admin-list")
    dashboard.open("/ui/admin/plans")
    assert len(dashboard.all("#admin-list tbody tr")) > 1
    dashboard.open("/ui/admin/platforms")
    assert "python" in dashboard.text("#admin-list")
    dashboard.open("/ui/admin/nodes")
    links = dashboard.all("#admin-list tbody a")
    assert links, "the process backend reports its node"
    links[0].click()
    dashboard.wait_for("h1")
    assert dashboard.text("h1").startswith("Units on ")


def test_a_user_without_grants_sees_what_the_api_shows_them(
    dashboard: Dashboard, make_user: MakeUser
) -> None:
    email, _ = make_user()
    dashboard.sign_in(email, PASSWORD)
    assert not dashboard.all('a[href="/ui/admin/pools"]')
    # The API decides what shows: no node for this user.
    dashboard.open("/ui/admin/nodes")
    assert not dashboard.all("#admin-list tbody tr")
    # And what they may do: the API's refusal is shown by the form that asked.
    dashboard.open("/ui/teams")
    dashboard.fill("#team-form", name="not-mine")
    dashboard.submit("#create-team")
    assert (
        dashboard.text('[data-error-for="team"]') == "You don't have permission to do this action"
    )
