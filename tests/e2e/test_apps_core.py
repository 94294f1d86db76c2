"""The apps context core through the gateway: create/list/info, the permission matrix
of app contexts (team, app, pool), the quota race, env, team access, quota, unit agent
log posting with the app token, and log following."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import MakeUser, bearer

pytestmark = pytest.mark.e2e

Post = Callable[..., requests.Response]


def name(prefix: str = "app") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def team(stack: Stack, admin_token: str) -> str:
    team = name("team")
    r = requests.post(f"{stack.url}/teams", data={"name": team}, headers=bearer(admin_token))
    assert r.status_code == 201, r.text
    return team


@pytest.fixture(scope="module")
def admin(admin_token: str) -> dict[str, str]:
    return bearer(admin_token)


def create(stack: Stack, headers: dict[str, str], **form: Any) -> requests.Response:
    return requests.post(f"{stack.url}/apps", data=form, headers=headers, timeout=30)


def test_create_info_list_and_tsuru_errors(stack: Stack, admin, team: str) -> None:
    app = name()
    r = create(stack, admin, name=app, teamOwner=team, platform="python", tag=["web", "b"],
               description="shop")  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"ip": f"{app}.tsubame.localhost:{stack.port}", "status": "success"}
    r = create(stack, admin, name=app, teamOwner=team)
    assert (r.status_code, r.text) == (
        409, f'tsuru failed to create the app "{app}": there is already an app with this name\n',
    )  # fmt: skip
    r = create(stack, admin, name="Bad_Name", teamOwner=team)
    assert r.status_code == 400 and r.text.startswith("Invalid app name")
    r = create(stack, admin, name=name(), teamOwner=team, pool="nope")
    assert r.status_code in (400, 404) and r.text == "Pool does not exist.\n"

    info = requests.get(f"{stack.url}/apps/{app}", headers=admin).json()
    assert (info["name"], info["teamowner"], info["teams"], info["platform"]) == (
        app, team, [team], "python",
    )  # fmt: skip
    assert info["tags"] == ["web", "b"] and info["description"] == "shop"
    assert info["units"] == [] and info["serviceInstanceBinds"] == []
    assert info["ip"] == f"{app}.tsubame.localhost:{stack.port}" and info["quota"]["inuse"] == 0
    assert info["lock"]["AcquireDate"] == "0001-01-01T00:00:00Z"
    assert info["plan"]["name"] and "override" in info["plan"]
    r = requests.get(f"{stack.url}/1.0/apps/{app}-missing", headers=admin)
    assert (r.status_code, r.text) == (404, f"App {app}-missing not found.\n")

    listed = requests.get(f"{stack.url}/apps?name={app}&extended=true", headers=admin).json()
    assert [a["name"] for a in listed] == [app]
    assert listed[0]["platform"] == "python" and listed[0]["teamowner"] == team
    r = requests.get(f"{stack.url}/apps?name=^{app}$&tag=web&tag=nope", headers=admin)
    assert r.status_code == 204


def test_permission_matrix_by_team_app_and_pool(stack: Stack, admin, team: str,
                                                make_user: MakeUser) -> None:  # fmt: skip
    app = name()
    assert create(stack, admin, name=app, teamOwner=team).status_code == 201
    other = name()
    assert create(stack, admin, name=other, teamOwner=team).status_code == 201
    pool = requests.get(f"{stack.url}/apps/{app}", headers=admin).json()["pool"]
    by_team = make_user(("team", ["app.read"], team))[1]
    by_app = make_user(("app", ["app.read"], app))[1]
    by_pool = make_user(("pool", ["app.read"], pool))[1]
    nobody = make_user()[1]
    for token, sees_other in ((by_team, True), (by_app, False), (by_pool, True)):
        r = requests.get(f"{stack.url}/apps?simplified=true", headers=bearer(token))
        names = {a["name"] for a in r.json()}
        assert app in names and (other in names) == sees_other
        assert requests.get(f"{stack.url}/apps/{app}", headers=bearer(token)).status_code == 200
    assert requests.get(f"{stack.url}/apps", headers=bearer(nobody)).status_code == 204
    r = requests.get(f"{stack.url}/apps/{app}", headers=bearer(nobody))
    assert (r.status_code, r.text) == (403, "You don't have permission to do this action\n")
    r = requests.put(f"{stack.url}/apps/{app}/quota", data={"limit": "2"}, headers=bearer(by_team))
    assert r.status_code == 403


def test_quota_race_two_creates_at_the_limit_one_wins(stack: Stack, admin, team: str,
                                                      make_user: MakeUser) -> None:  # fmt: skip
    email, token = make_user(("team", ["app.create", "app.read"], team))
    r = requests.put(f"{stack.url}/users/{email}/quota", data={"limit": "1"}, headers=admin)
    assert r.status_code == 200, r.text
    results: list[int] = []

    def go() -> None:
        results.append(create(stack, bearer(token), name=name(), teamOwner=team).status_code)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 403]
    quota = requests.get(f"{stack.url}/users/{email}/quota", headers=admin).json()
    assert quota == {"limit": 1, "inuse": 1}


def test_mutations_by_team_app_and_pool_context(stack: Stack, admin, team: str,
                                                make_user: MakeUser) -> None:  # fmt: skip
    app, other = name(), name()
    assert create(stack, admin, name=app, teamOwner=team).status_code == 201
    assert create(stack, admin, name=other, teamOwner=team).status_code == 201
    pool = requests.get(f"{stack.url}/apps/{app}", headers=admin).json()["pool"]
    stranger_team = name("team")
    assert requests.post(f"{stack.url}/teams", data={"name": stranger_team},
                         headers=admin).status_code == 201  # fmt: skip

    def set_env(token: str, target: str) -> int:
        body = {"envs": [{"name": "MATRIX", "value": "1"}], "norestart": True}
        r = requests.post(f"{stack.url}/apps/{target}/env", json=body, headers=bearer(token))
        return r.status_code

    by_app = make_user(("app", ["app.update.env.set"], app))[1]
    by_team = make_user(("team", ["app.update.env.set"], team))[1]
    by_pool = make_user(("pool", ["app.update.env.set"], pool))[1]
    by_stranger = make_user(("team", ["app.update.env.set"], stranger_team))[1]
    by_parent = make_user(("app", ["app.update"], app))[1]  # a parent grants its children
    assert (set_env(by_app, app), set_env(by_app, other)) == (200, 403)
    assert (set_env(by_team, app), set_env(by_team, other)) == (200, 200)
    assert (set_env(by_pool, app), set_env(by_pool, other)) == (200, 200)
    assert (set_env(by_stranger, app), set_env(by_parent, app)) == (403, 200)
    # A sibling permission is no grant: env.set does not unset.
    r = requests.delete(f"{stack.url}/apps/{app}/env?env=MATRIX&noRestart=true",
                        headers=bearer(by_app))  # fmt: skip
    assert (r.status_code, r.text) == (403, "You don't have permission to do this action\n")
    assert "MATRIX" in {e["name"] for e in requests.get(f"{stack.url}/apps/{app}/env",
                                                         headers=admin).json()}  # fmt: skip

    # Creating checks app.create in the owner team's context; removing, app.delete.
    creator = make_user(("team", ["app.create"], team))[1]
    r = create(stack, bearer(creator), name=name(), teamOwner=stranger_team)
    assert (r.status_code, r.text) == (403, "You don't have permission to do this action\n")
    made = name()
    assert create(stack, bearer(creator), name=made, teamOwner=team).status_code == 201
    deleter = make_user(("app", ["app.delete"], made))[1]
    r = requests.delete(f"{stack.url}/apps/{app}", headers=bearer(deleter))
    assert r.status_code == 403
    assert requests.get(f"{stack.url}/apps/{app}", headers=admin).status_code == 200
    r = requests.delete(f"{stack.url}/apps/{made}", headers=bearer(deleter))
    assert r.status_code == 200, r.text
    assert requests.get(f"{stack.url}/apps/{made}", headers=admin).status_code == 404


def test_quota_race_twenty_clients_at_a_limit_of_three(stack: Stack, admin, team: str,
                                                      make_user: MakeUser) -> None:  # fmt: skip
    email, token = make_user(("team", ["app.create", "app.read"], team))
    r = requests.put(f"{stack.url}/users/{email}/quota", data={"limit": "3"}, headers=admin)
    assert r.status_code == 200, r.text
    made = [name() for _ in range(20)]
    results: dict[str, requests.Response] = {}
    start = threading.Barrier(20)

    def go(app: str) -> None:
        start.wait()
        results[app] = create(stack, bearer(token), name=app, teamOwner=team)

    threads = [threading.Thread(target=go, args=(app,)) for app in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [201] * 3 + [403] * 17, [(r.status_code, r.text) for r in results.values()]
    refused = {r.text for r in results.values() if r.status_code == 403}
    assert len(refused) == 1 and refused.pop().startswith("Quota exceeded"), refused
    won = {app for app, r in results.items() if r.status_code == 201}
    listed = requests.get(f"{stack.url}/apps?simplified=true", headers=bearer(token)).json()
    assert {a["name"] for a in listed} & set(made) == won  # the losers left nothing behind
    quota = requests.get(f"{stack.url}/users/{email}/quota", headers=admin).json()
    assert quota == {"limit": 3, "inuse": 3}
    # A removal gives its slot back: the next create fits.
    lost = (set(made) - won).pop()
    assert requests.delete(f"{stack.url}/apps/{won.pop()}", headers=admin).status_code == 200
    assert create(stack, bearer(token), name=lost, teamOwner=team).status_code == 201
    quota = requests.get(f"{stack.url}/users/{email}/quota", headers=admin).json()
    assert quota == {"limit": 3, "inuse": 3}


def test_team_access_quota_and_env_read(stack: Stack, admin, team: str) -> None:
    app = name()
    assert create(stack, admin, name=app, teamOwner=team).status_code == 201
    other = name("team")
    requests.post(f"{stack.url}/teams", data={"name": other}, headers=admin)
    assert requests.put(f"{stack.url}/apps/{app}/teams/{other}", headers=admin).status_code == 200
    r = requests.put(f"{stack.url}/apps/{app}/teams/{other}", headers=admin)
    assert (r.status_code, r.text) == (409, "team already have access to this app\n")
    usage = requests.delete(f"{stack.url}/teams/{other}", headers=admin)
    assert usage.status_code in (400, 403, 409, 412) and app in usage.text  # in use by the app
    assert (
        requests.delete(f"{stack.url}/apps/{app}/teams/{other}", headers=admin).status_code == 200
    )
    r = requests.delete(f"{stack.url}/apps/{app}/teams/{team}", headers=admin)
    assert r.status_code == 403 and "unique team" in r.text
    assert requests.put(f"{stack.url}/apps/{app}/quota", data={"limit": "3"},
                        headers=admin).status_code == 200  # fmt: skip
    assert requests.get(f"{stack.url}/apps/{app}/quota", headers=admin).json() == {
        "limit": 3, "inuse": 0}  # fmt: skip
    envs = {e["name"]: e for e in requests.get(f"{stack.url}/apps/{app}/env", headers=admin).json()}
    assert envs["TSURU_APPNAME"]["value"] == app and envs["TSURU_APPNAME"]["public"] is False
    assert len(envs["TSURU_APP_TOKEN"]["value"]) == 64 and envs["TSURU_SERVICES"]["value"] == "{}"


def app_token(stack: Stack, admin: dict[str, str], app: str) -> dict[str, str]:
    r = requests.get(f"{stack.url}/apps/{app}/env?env=TSURU_APP_TOKEN", headers=admin)
    return bearer(r.json()[0]["value"])


def test_unit_agent_logs_with_the_app_token_and_follow(stack: Stack, admin, team: str) -> None:
    app = name()
    assert create(stack, admin, name=app, teamOwner=team).status_code == 201
    token = app_token(stack, admin, app)
    r = requests.post(f"{stack.url}/apps/{app}/log", data={"message": "hello\nworld",
                      "source": "web", "unit": "u1"}, headers=token)  # fmt: skip
    assert (r.status_code, r.text) == (200, "")
    other = name()
    assert create(stack, admin, name=other, teamOwner=team).status_code == 201
    r = requests.post(f"{stack.url}/apps/{other}/log", data={"message": "x"}, headers=token)
    assert (r.status_code, r.text) == (
        403, f'app token mismatch, token for "{app}", request for "{other}"\n',
    )  # fmt: skip
    # The app token's fixed grants: it cannot read the app's info.
    assert requests.get(f"{stack.url}/apps/{app}", headers=token).status_code == 403

    page = requests.get(f"{stack.url}/apps/{app}/log?lines=10", headers=token)
    assert page.headers["Content-Type"] == "application/x-json-stream"
    assert [e["Message"] for e in json.loads(page.text.splitlines()[0])] == ["hello", "world"]

    with requests.get(f"{stack.url}/apps/{app}/log?lines=1&follow=1", headers=admin,
                      stream=True, timeout=30) as follow:  # fmt: skip
        lines = follow.iter_lines()
        first = json.loads(next(lines))
        assert [e["Message"] for e in first] == ["world"]
        time.sleep(0.5)
        requests.post(f"{stack.url}/apps/{app}/log", data={"message": "live"}, headers=token)
        got = next(line for line in lines if line.strip())
        assert [e["Message"] for e in json.loads(got)] == ["live"]
    r = requests.get(f"{stack.url}/apps/{app}/log", headers=token)
    assert (r.status_code, r.text) == (400, 'Parameter "lines" is mandatory.\n')


def test_certificates_for_the_app_address(stack: Stack, admin, team: str) -> None:
    from services.apps.tests.certs import pair

    app = name()
    assert create(stack, admin, name=app, teamOwner=team).status_code == 201
    host = f"{app}.tsubame.localhost"
    cert, key = pair(host)
    r = requests.put(f"{stack.url}/apps/{app}/certificate",
                     data={"cname": host, "certificate": cert, "key": key}, headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    listed = requests.get(f"{stack.url}/apps/{app}/certificate", headers=admin).json()
    assert list(listed.values()) == [{host: cert}]
    other_cert, other_key = pair("elsewhere.example.com")
    r = requests.put(f"{stack.url}/apps/{app}/certificate",
                     data={"cname": host, "certificate": other_cert, "key": other_key},
                     headers=admin)  # fmt: skip
    assert (r.status_code, r.text) == (
        400, f"x509: certificate is valid for elsewhere.example.com, not {host}\n",
    )  # fmt: skip


def _ws_text_frames(stack: Stack, path: str, token: str | None) -> list[str]:
    """Open a websocket through the gateway and read its text frames until it closes."""
    import base64
    import os
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(stack.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=15)
    auth = f"Authorization: bearer {token}\r\n" if token else ""
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n{auth}\r\n").encode())  # fmt: skip
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    frames: list[str] = []
    buf = rest
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    sock.close()
    while len(buf) >= 2:
        opcode, size = buf[0] & 0x0F, buf[1] & 0x7F
        start = 2
        if size == 126:
            size, start = int.from_bytes(buf[2:4], "big"), 4
        payload, buf = buf[start : start + size], buf[start + size :]
        if opcode == 0x1:
            frames.append(payload.decode())
    return frames


def test_log_intake_websocket_refuses_tokens_other_than_tsurus_internal_one(
    stack: Stack, admin_token: str
) -> None:
    assert _ws_text_frames(stack, "/logs", None) == ['{"error":"wslogs: no token"}']
    assert _ws_text_frames(stack, "/logs", admin_token) == [
        '{"error":"wslogs: invalid token app name: \\"\\""}'
    ]
