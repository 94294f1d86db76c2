"""The dashboard's app pages in a real browser against the real stack, through the
gateway: an app from creation to removal (deploy by upload with its live output, its
address answering through the gateway, the log followed, env, units, rollback), service
instances bound and unbound, and the API's refusals shown by the form that asked."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from scripts.stack import Stack
from services.catalog.tests.peers.service_api import FakeServiceApi
from tests.apps import sample_archive
from tests.e2e.conftest import bearer
from tests.e2e.web_browser import Dashboard

pytestmark = pytest.mark.e2e

# A build hook that takes a moment: the output is seen in the page before it ends.
SLOW_BUILD = (
    "hooks:\n  build:\n"
    '    - echo "hook-ran-as-$(id -u)" > build.txt\n'
    "    - sleep 3\n"
    "healthcheck:\n  path: /healthcheck\n"
)
DEPLOY_WAIT = 240.0
OPERATION_WAIT = 120.0


@pytest.fixture(scope="module")
def team(stack: Stack, admin_token: str) -> str:
    name = "webapps-" + secrets.token_hex(3)
    resp = requests.post(
        f"{stack.url}/teams", data={"name": name}, headers=bearer(admin_token), timeout=30
    )
    assert resp.status_code == 201, resp.text
    return name


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("web-archives")
    junk = base / "junk.tar.gz"
    junk.write_bytes(b"this is not a tarball")
    return {
        "v1": sample_archive(base / "v1", {"tsuru.yaml": SLOW_BUILD}),
        "v2": sample_archive(base / "v2", {"release.txt": "second"}),
        "junk": junk,
    }


def app_name(prefix: str = "web") -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


# -- steps a user takes -------------------------------------------------------------------


def create_app(board: Dashboard, name: str, team: str) -> None:
    board.open("/ui/apps")
    board.find("#new-app").click()
    board.wait_for("#create-app")
    board.fill("#create-app", name=name, platform="python", teamOwner=team)
    board.submit("#create")
    assert board.path() == f"/ui/apps/{name}"
    assert board.text("#notice") == f"App {name} created."


def outcome(board: Dashboard, timeout: float = OPERATION_WAIT) -> tuple[str, str]:
    """Waits for a live operation page to end: (its outcome, the output shown)."""
    board.wait_for("#outcome", timeout=timeout)
    board.shot()
    return board.find("#outcome").get_attribute("data-outcome") or "", board.text("#output")


def run_ok(board: Dashboard, button: str, timeout: float = OPERATION_WAIT) -> str:
    """Starts an operation from the app page; its live output must end in success."""
    board.submit(button)
    state, output = outcome(board, timeout)
    assert state == "ok", f"{board.text('#outcome')}\n{output}"
    return output


def deploy(board: Dashboard, archive: Path) -> None:
    board.find("#deploy-file").send_keys(str(archive))
    board.find("#deploy").click()


def back_to_app(board: Dashboard) -> None:
    board.find("#back").click()
    board.wait_for("#app-title")
    board.shot()


def unit_rows(board: Dashboard) -> list[dict[str, str]]:
    """The app page's units table (it refreshes itself) as the user reads it."""
    rows = []
    for row in board.all("#units-table tbody tr"):
        cells = [c.text for c in row.find_elements("css selector", "td")]
        if len(cells) >= 5:
            rows.append(
                {
                    "id": cells[0],
                    "process": cells[1],
                    "status": cells[2],
                    "version": cells[3],
                    "address": cells[4],
                }  # fmt: skip
            )
    return rows


def units_become(
    board: Dashboard, n: int, version: str, status: str = "started"
) -> list[dict[str, str]]:
    def settled() -> list[dict[str, str]] | None:
        try:
            rows = unit_rows(board)
        except Exception:  # noqa: BLE001 - the table was replaced while read
            return None
        ok = len(rows) == n and all(r["status"] == status and r["version"] == version for r in rows)
        return rows if ok else None

    rows: list[dict[str, str]] = board.wait_until(
        settled, timeout=OPERATION_WAIT, what=f"{n} {status} units of version {version}"
    )
    return rows


def open_address(board: Dashboard, app: str) -> str:
    """Follows the app page's address link (the app's router address, through the
    gateway); the text the browser shows there."""
    link = board.find("a.address")
    href = link.get_attribute("href") or ""
    assert href.startswith(f"http://{app}."), href
    link.click()
    board.wait_until(lambda: board.driver.current_url.startswith(href), what=f"the page at {href}")
    board.wait_for("body")
    board.shot()
    return board.text()


def unit_says(address: str, path: str = "/") -> str:
    resp = requests.get(f"http://{address}{path}", timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.text


# -- the scenario ---------------------------------------------------------------------------


def test_an_app_from_creation_to_removal(
    dashboard: Dashboard,
    admin_credentials: tuple[str, str],
    admin_token: str,
    stack: Stack,
    team: str,
    archives: dict[str, Path],
) -> None:
    board = dashboard
    app = app_name()
    board.sign_in(*admin_credentials)
    create_app(board, app, team)
    assert board.text("#no-deploys") == "Never deployed."
    assert board.text("#no-units") == "No unit."

    # Deploy by upload: the output arrives in the page as the build goes (the build
    # hook sleeps 3 s: pieces come before and after it), and ends in success.
    board.arrivals("/deploy")
    deploy(board, archives["v1"])
    state, output = outcome(board, DEPLOY_WAIT)
    assert state == "ok", output
    assert output.rstrip().endswith("OK") and "---- Starting 1 new unit [web: 1] ----" in output
    assert board.text("#outcome") == "Done."
    pieces = board.arrivals("/deploy")
    assert len(pieces) >= 3 and pieces[-1][0] - pieces[0][0] >= 2.5, pieces
    back_to_app(board)
    (first,) = units_become(board, 1, "1")
    assert board.text("#deploy-count") == "1"
    assert "drag-and-drop" in board.text("#deploys")
    # The deploy's event keeps its output.
    board.find("#deploys tbody tr a").click()
    board.wait_for("#event-log")
    board.shot()
    assert board.text("h1") == f"app.deploy on app {app}"
    assert "---- Running build hooks ----" in board.text("#event-log")
    board.open(f"/ui/apps/{app}")
    assert unit_says(first["address"]).startswith("Hello from Tsubame! greeting= ")

    # Its address, followed from its page, answers with the app's own reply.
    assert open_address(board, app).startswith("Hello from Tsubame! greeting= unit=")
    board.open(f"/ui/apps/{app}")

    # The apps list shows it with its status, found by its name.
    board.open(f"/ui/apps?name={app}")
    row = board.find(f'#apps tr[data-app="{app}"]')
    assert "started" in row.text and "1 started" in row.text and team in row.text

    # Its log: following it, a line the app writes now arrives in the page.
    board.open(f"/ui/apps/{app}")
    board.find("#logs-link").click()
    board.wait_for("#log-lines")
    assert "---- Building image ----" in board.text("#log-lines")
    board.find("#follow").click()
    board.wait_until(lambda: board.text("#follow-state") == "following…", what="following")
    marker = "/seen-in-the-browser-" + secrets.token_hex(4)
    requests.get(f"http://{first['address']}{marker}", timeout=10)
    board.wait_until(
        lambda: f"GET {marker} 404" in board.text("#log-lines"),
        what="the app's new log line in the followed log",
    )
    board.shot()
    board.find("#follow").click()
    assert board.text("#follow").strip() == "Follow"

    # An env var set with a restart: the app comes back on new units that see it.
    board.open(f"/ui/apps/{app}")
    board.fill("#env-form", name="GREETING", value="from-the-browser")
    output = run_ok(board, "#env-set")
    assert "---- Setting 1 new environment variables ----" in output
    assert f'---- Restarting the app "{app}" ----' in output
    back_to_app(board)
    assert board.text('#env tr[data-env="GREETING"]').split()[:2] == [
        "GREETING",
        "from-the-browser",
    ]
    (restarted,) = units_become(board, 1, "1")
    assert restarted["id"] != first["id"]
    assert "greeting=from-the-browser " in unit_says(restarted["address"])
    assert "greeting=from-the-browser " in open_address(board, app)
    board.open(f"/ui/apps/{app}")

    # One more unit.
    board.fill("#units-form", units="1")
    output = run_ok(board, "#add-units")
    assert "---- Starting 1 new unit [web: 1] ----" in output
    back_to_app(board)
    two = units_become(board, 2, "1")
    for unit in two:
        assert "greeting=from-the-browser " in unit_says(unit["address"])

    # The units' status refreshes in the open page: stopped by a tsuru client, then
    # started again from the page.
    page = board.find("html")
    resp = requests.post(f"{stack.url}/apps/{app}/stop", headers=bearer(admin_token), timeout=120)
    assert resp.status_code == 200 and '"Error"' not in resp.text, resp.text
    units_become(board, 2, "1", status="stopped")
    assert page.tag_name == "html", "the same page, not reloaded"
    assert "stopped" in board.text("#units")
    output = run_ok(board, "#start")
    assert f'---> Starting the app "{app}"' in output
    back_to_app(board)
    assert {u["id"] for u in units_become(board, 2, "1")} == {u["id"] for u in two}

    # The admin's node page lists them.
    board.open("/ui/admin/nodes")
    board.all("#admin-list tbody a")[0].click()
    board.wait_for("h1")
    board.shot()
    listed = board.text("#admin-list")
    assert all(u["id"] in listed for u in two) and app in listed

    # A second deploy, then a rollback to the first version from the deploys table.
    board.open(f"/ui/apps/{app}")
    deploy(board, archives["v2"])
    state, output = outcome(board, DEPLOY_WAIT)
    assert state == "ok", output
    back_to_app(board)
    units_become(board, 2, "2")
    assert board.text("#deploy-count") == "2"
    assert not board.all('#deploys button[data-version="2"]'), "v2 runs: no rollback to it"
    output = run_ok(board, '#deploys button[data-version="1"]', DEPLOY_WAIT)
    assert "---- Starting 2 new units [web: 2] ----" in output
    back_to_app(board)
    for unit in units_become(board, 2, "1"):
        assert "greeting=from-the-browser " in unit_says(unit["address"])
    assert "rollback" in board.text("#deploys")
    # v2, no longer running, is stored for a rollback until it is removed.
    output = run_ok(board, '#deploys button[data-remove-version="2"]')
    assert "---- Done removing application version 2." in output
    back_to_app(board)
    assert not board.all('#deploys button[data-version="2"]')

    # Removal asks to type the app's name.
    board.find("#remove-link").click()
    board.wait_for("#remove-form")
    board.fill("#remove-form", confirm=app + "-not")
    board.submit("#confirm-remove")
    assert board.text('[data-error-for="remove"]') == "Type the app's name exactly to remove it."
    board.fill("#remove-form", confirm=app)
    board.submit("#confirm-remove")
    state, output = outcome(board)
    assert state == "ok", output
    assert f'---- Removing application "{app}"...' in output
    board.find("#back").click()
    board.wait_for("#app-filters")
    assert not board.all(f'#apps tr[data-app="{app}"]')
    board.open(f"/ui/apps/{app}")
    assert board.text("#error-message") == f"App {app} not found."
    # Its units are gone with it.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{two[0]['address']}/", timeout=5)


# -- services -------------------------------------------------------------------------------


@pytest.fixture
def service_api() -> Iterator[FakeServiceApi]:
    api = FakeServiceApi()
    yield api
    api.close()


def test_a_service_instance_created_bound_and_unbound_in_the_browser(
    dashboard: Dashboard,
    admin_credentials: tuple[str, str],
    admin_token: str,
    stack: Stack,
    team: str,
    service_api: FakeServiceApi,
) -> None:
    board = dashboard
    admin = bearer(admin_token)
    service = "websvc-" + secrets.token_hex(3)
    resp = requests.post(
        f"{stack.url}/services",
        data={"id": service, "password": "api-s3cret", "endpoint": service_api.url, "team": team},
        headers=admin,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    app = app_name("bind")
    resp = requests.post(
        f"{stack.url}/apps",
        data={"name": app, "teamOwner": team, "platform": "python"},
        headers=admin,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text

    board.sign_in(*admin_credentials)
    board.open("/ui/services")
    section = f'[data-service="{service}"]'
    board.fill(f"{section} form", name="1-not-valid", owner=team)
    board.submit(f"{section} form button")
    assert board.text(f'[data-error-for="instance-{service}"]') == "invalid service instance name"

    instance = "db" + secrets.token_hex(3)
    board.fill(f"{section} form", name=instance, plan="small", owner=team)
    board.submit(f"{section} form button")
    assert board.path() == f"/ui/services/{service}/{instance}"
    assert board.text("#notice") == f"Instance {instance} created."
    assert "small" in board.text("main") and "1 cpu" in board.text("main")

    board.fill("#bind-form", app=app)
    output = run_ok(board, "#bind-form button")
    assert f'Instance "{instance}" is now bound to the app "{app}".' in output
    board.find("#back").click()
    board.wait_for("#bound-apps")
    assert app in board.text("#bound-apps")

    # The app's page shows the binding and the service's variables (values hidden).
    board.find(f'#bound-apps a[href="/ui/apps/{app}"]').click()
    board.wait_for("#binds")
    assert f"{service}/{instance}" in board.text("#binds")
    row = board.text('#env tr[data-env="DB_HOST"]')
    assert "10.0.0.1" not in row and "private" in row
    # The service's variables are the binding's: they are not unset from here.
    assert not board.all('#env tr[data-env="DB_HOST"] button')

    output = run_ok(board, "#binds button")
    assert f'Instance "{instance}" is not bound to the app "{app}" anymore.' in output
    back_to_app(board)
    assert board.text("#no-binds").startswith("No service instance is bound.")
    assert not board.all('#env tr[data-env="DB_HOST"]')

    board.open(f"/ui/services/{service}/{instance}")
    assert board.text("#bound-apps") == "none"
    output = run_ok(board, "#instance-remove button")
    assert "service instance successfully removed" in output
    board.find("#back").click()
    board.wait_for(section)
    assert instance not in board.text(section)
    assert service_api.calls("DELETE", f"/resources/{instance}")


# -- refusals -------------------------------------------------------------------------------


def test_the_apis_refusals_are_shown_by_the_form_that_asked(
    dashboard: Dashboard,
    admin_credentials: tuple[str, str],
    team: str,
    archives: dict[str, Path],
) -> None:
    board = dashboard
    board.sign_in(*admin_credentials)
    board.open("/ui/new-app")
    board.fill("#create-app", name="Not_Valid", teamOwner=team)
    board.submit("#create")
    assert board.text('[data-error-for="create"]').startswith("Invalid app name,")
    app = app_name("refused")
    create_app(board, app, team)
    board.open("/ui/new-app")
    board.fill("#create-app", name=app, teamOwner=team)
    board.submit("#create")
    assert board.text('[data-error-for="create"]') == (
        f'tsuru failed to create the app "{app}": there is already an app with this name'
    )

    refusals = [
        ("#env-form", {"name": "1BAD", "value": "x"}, "#env-set", "env",
         "Invalid environment variable name: '1BAD'"),
        ("#cname-form", {"cname": "not a host!"}, "#cname-form button", "cname",
         "Invalid cname"),
        ("#units-form", {"units": "1"}, "#add-units", "units", "no versions available for app"),
        ("#process-form", {}, "#restart", "process", "no versions available for app"),
    ]  # fmt: skip
    for form, fields, button, key, message in refusals:
        board.open(f"/ui/apps/{app}")
        board.fill(form, **fields)
        board.submit(button)
        assert board.text(f'[data-error-for="{key}"]') == message, form
        assert board.text("#app-title") == app

    # A deploy the API fails after its output started: the page ends with its reason.
    board.open(f"/ui/apps/{app}")
    deploy(board, archives["junk"])
    state, output = outcome(board, DEPLOY_WAIT)
    assert state == "failed"
    assert "invalid archive" in board.text("#outcome")
    board.open(f"/ui/apps/{app}")
    assert "failed" in board.text("#deploys")

    board.open("/ui/apps/no-such-app-here/log")
    assert board.text("#error-message") == "App no-such-app-here not found."


def test_cnames_and_env_of_an_app_not_yet_deployed(
    dashboard: Dashboard, admin_credentials: tuple[str, str], team: str
) -> None:
    board = dashboard
    board.sign_in(*admin_credentials)
    app = app_name("names")
    create_app(board, app, team)

    cname = f"www.{app}.example.test"
    board.fill("#cname-form", cname=cname)
    board.submit("#cname-form button")
    assert board.text("#notice") == f"CNAME {cname} added."
    assert cname in board.text("#cnames")
    assert f"http://{cname}/" in [a.get_attribute("href") for a in board.all("a.address")]
    board.submit("#cnames button")
    assert board.text("#notice") == f"CNAME {cname} removed."
    assert cname not in board.text("#cnames")

    # A private variable: its value never reaches the page.
    board.fill("#env-form", name="API_KEY", value="s3cret-value")
    board.find('#env-form [name="private"]').click()
    board.find('#env-form [name="restart"]').click()
    output = run_ok(board, "#env-set")
    assert "---- Setting 1 new environment variables ----" in output
    back_to_app(board)
    row = board.text('#env tr[data-env="API_KEY"]')
    assert "private" in row and "s3cret-value" not in board.driver.page_source
    output = run_ok(board, '#env tr[data-env="API_KEY"] button')
    assert "---- Unsetting 1 environment variables ----" in output
    back_to_app(board)
    assert not board.all('#env tr[data-env="API_KEY"]')
